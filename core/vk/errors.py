"""VK error codes turned into short messages a person can act on."""

from __future__ import annotations

from core.i18n import N_, _

# Codes after which the same request may succeed later.
RETRYABLE = {1, 6, 9, 10}
# Codes that end the whole job: nothing else will work with this token or community.
# 14: VK wants a person to solve a captcha, which a worker cannot do; retrying soon only
# prolongs it.
FATAL = {5, 14, 18, 29, 30, 100, 113}
# Codes with which VK says the community itself cannot be read: none such (100, 113), deleted or
# banned (18), private (15, 30; 15 from a wall or community request, never a post's).
UNREACHABLE = {15, 18, 30, 100, 113}
# Codes that concern one post only: skip it and go on.
SKIPPABLE = {15, 212}

# Marked here, translated where a VkError is made (`from_code`), in the job's language: these
# reach closing messages and audit rows.
MESSAGES = {
    1: N_("VK had an unknown error"),
    5: N_("VK rejected the access token (error 5): check VK_TOKEN"),
    6: N_("too many requests per second to VK (error 6)"),
    9: N_("VK flood control (error 9)"),
    10: N_("VK internal server error (error 10)"),
    13: N_("VK execute failed (error 13)"),
    14: N_(
        "VK asks to solve a captcha (error 14): it suspects automated requests from this "
        "token. Try again in an hour or use another VK_TOKEN"
    ),
    15: N_("access denied: the community or post is private (error 15)"),
    18: N_("the community was deleted or banned (error 18)"),
    29: N_("VK's daily request limit for this token is reached (error 29): try again tomorrow"),
    30: N_("the community is private (error 30)"),
    100: N_("VK did not find that community (error 100): check the name or id"),
    113: N_("VK did not find that community (error 113)"),
    212: N_("comments are closed on this post (error 212)"),
}


class VkError(Exception):
    """A VK failure with a message safe to show in a chat (never contains the token)."""

    def __init__(self, code: int, message: str, *, retry: bool | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry = code in RETRYABLE if retry is None else retry

    @property
    def fatal(self) -> bool:
        return self.code in FATAL

    @classmethod
    def from_code(cls, code: int, method: str) -> VkError:
        if code in MESSAGES:
            return cls(code, _(MESSAGES[code]))
        return cls(code, _("VK error {code} in {method}", code=code, method=method))

    def __str__(self) -> str:
        return self.message
