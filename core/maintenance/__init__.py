"""Maintenance of the stored data: cleanup of old comments, backups and their restore."""
