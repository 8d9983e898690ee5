"""Job functions, one per catalog entry, each named as its entry: `(ctx, args) -> result`."""

from worker.jobs.analysis import (
    analyze_comment_chunk,
    analyze_text_morphology,
    extract_keywords,
    process_batch_comments,
)
from worker.jobs.maintenance import backup_database, cleanup_old_data
from worker.jobs.notify import send_notification
from worker.jobs.parse import parse_vk_comments
from worker.jobs.reports import generate_report, show_statistics, update_statistics
from worker.jobs.scheduled import send_digest, watch_vk_comments

__all__ = [
    "analyze_comment_chunk",
    "analyze_text_morphology",
    "backup_database",
    "cleanup_old_data",
    "extract_keywords",
    "generate_report",
    "parse_vk_comments",
    "process_batch_comments",
    "send_digest",
    "send_notification",
    "show_statistics",
    "update_statistics",
    "watch_vk_comments",
]
