"""Test doubles for external services used by the end-to-end tests."""

from .telegram import (
    ApiCall,
    FakeTelegram,
    InlineButton,
    SentMessage,
    UploadedFile,
)

__all__ = [
    "ApiCall",
    "FakeTelegram",
    "InlineButton",
    "SentMessage",
    "UploadedFile",
]
