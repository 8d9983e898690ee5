"""Job functions, one per catalog entry, each named as its entry: `(ctx, args) -> result`."""

from worker.jobs.notify import send_notification
from worker.jobs.parse import parse_vk_comments

__all__ = ["parse_vk_comments", "send_notification"]
