"""The fake VK API's ``execute``: parsing the VKScript clients send and running the batch.

Only the forms real clients generate are understood (see :func:`parse_execute_code`); the calls
are dispatched one by one and failures become ``execute_errors`` entries, as on VK.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from fakevk.methods import FakeApiError, Params, dumps, invalid_param

_DECODER = json.JSONDecoder()
_RETURN_RE = re.compile(r"\s*return\s*")
_CALL_RE = re.compile(r"\s*API\.([A-Za-z]+(?:\.[A-Za-z]+)?)\s*\(\s*")
_WS_RE = re.compile(r"\s+")
_VAR_RE = re.compile(r"\s*var\s+(def_values|values)\s*=\s*")
_NEXT_VALUES_RE = re.compile(r"\s*,\s*values\s*=\s*")
# vk_api's VkRequestsPool sends these two loop templates (vk_one_method / vk_one_param) when all
# calls of a batch use the same method; matched after the JSON literals with whitespace removed.
_ONE_METHOD_TAIL = re.compile(
    r",i=0,result=\[\];while\(i<values\.length\)\{result\.push\(API\.([A-Za-z]+\.[A-Za-z]+)"
    r"\(values\[i\]\)\);i=i\+1;\}returnresult;?"
)
_ONE_PARAM_TAIL = re.compile(
    r",result=\[\],i=0;while\(i<values\.length\)\{def_values\.(\w+)=values\[i\];"
    r"result\.push\(API\.([A-Za-z]+\.[A-Za-z]+)\(def_values\)\);i=i\+1;\}returnresult;?"
)

ExecuteCall = tuple[str, dict[str, Any]]


def _json_at(code: str, pos: int) -> tuple[Any, int] | None:
    while pos < len(code) and code[pos].isspace():
        pos += 1
    try:
        return _DECODER.raw_decode(code, pos)
    except json.JSONDecodeError:
        return None


def _parse_loop_forms(code: str) -> list[ExecuteCall] | None:
    """The two VKScript loops vk_api generates; None if ``code`` is neither."""
    m = _VAR_RE.match(code)
    if m is None:
        return None
    parsed = _json_at(code, m.end())
    if parsed is None:
        return None
    values, pos = parsed
    defaults: Any = None
    if m.group(1) == "def_values":
        defaults = values
        m2 = _NEXT_VALUES_RE.match(code, pos)
        parsed = None if m2 is None else _json_at(code, m2.end())
        if parsed is None:
            return None
        values, pos = parsed
    if not isinstance(values, list):
        return None
    tail = _WS_RE.sub("", code[pos:])
    if defaults is not None:
        pm = _ONE_PARAM_TAIL.fullmatch(tail)
        if pm is None or not isinstance(defaults, dict):
            return None
        key, method = pm.group(1), pm.group(2)
        return [(method, {**defaults, key: v}) for v in values]
    mm = _ONE_METHOD_TAIL.fullmatch(tail)
    if mm is None or not all(isinstance(v, dict) for v in values):
        return None
    return [(mm.group(1), v) for v in values]


def parse_execute_code(code: str) -> tuple[list[ExecuteCall], bool] | None:
    """Parse the VKScript that clients send to ``execute``.

    Accepts ``return [API.a.b({...}), ...];`` (vk_api's mixed-method batches), a single
    ``return API.a.b({...});`` and vk_api's two same-method loop templates.  Returns the calls
    and whether the result is an array, or None when the code is not one of these forms (the
    server then answers error 12, as VK does for code it cannot compile).  Arguments are parsed
    with a JSON decoder rather than a regex so strings containing ``)`` or ``,`` are safe.
    """
    loop = _parse_loop_forms(code)
    if loop is not None:
        return loop, True
    m = _RETURN_RE.match(code)
    if m is None:
        return None
    pos = m.end()
    is_list = code.startswith("[", pos)
    pos += is_list
    calls: list[ExecuteCall] = []
    while True:
        if is_list and not calls and code[pos:].lstrip().startswith("]"):
            pos = code.index("]", pos) + 1  # "return [];"
            break
        cm = _CALL_RE.match(code, pos)
        if cm is None:
            return None
        pos = cm.end()
        args: Any = {}
        if not code.startswith(")", pos):
            parsed = _json_at(code, pos)
            if parsed is None or not isinstance(parsed[0], dict):
                return None
            args, pos = parsed
            pos = len(code) - len(code[pos:].lstrip())
            if not code.startswith(")", pos):
                return None
        calls.append((cm.group(1), args))
        pos = len(code) - len(code[pos + 1 :].lstrip())
        if not is_list:
            break
        if code.startswith(",", pos):
            pos += 1
            continue
        if code.startswith("]", pos):
            pos += 1
            break
        return None
    if code[pos:].strip() not in ("", ";"):
        return None
    return calls, is_list


def _to_param(value: Any) -> str | None:
    """An execute argument as the string it would be in a form post (None: omit it)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list):
        return ",".join(s for s in (_to_param(v) for v in value) if s is not None)
    return json.dumps(value, ensure_ascii=False)


def run_execute(
    code: str | None,
    call: Callable[[str, Params], Any],
    *,
    max_calls: int,
    response_limit: int,
    error_counts: Counter[int],
) -> str:
    """The JSON body answering ``execute`` with ``code``; ``call`` serves one inner call.

    Inner failures are counted into ``error_counts`` as they happen, so they stay counted
    even when the batch then fails as a whole (response too big).
    """
    if not code:
        raise invalid_param("code is undefined")
    parsed = parse_execute_code(code)
    if parsed is None:
        raise FakeApiError(12, "Unable to compile code")
    calls, is_list = parsed
    if len(calls) > max_calls:
        raise FakeApiError(13, "Runtime error occurred during code invocation: Too many API calls")
    results: list[Any] = []
    errors: list[dict[str, Any]] = []
    for method, args in calls:
        inner = {k: s for k, v in args.items() if (s := _to_param(v)) is not None}
        try:
            results.append(call(method, inner))
        except FakeApiError as exc:
            error_counts[exc.code] += 1
            results.append(False)
            errors.append({"method": method, "error_code": exc.code, "error_msg": exc.msg})
    payload = dumps(results if is_list else results[0])
    # VK measures the produced response; serialise once and reuse it for the body.
    if len(payload.encode("utf-8")) > response_limit:
        raise FakeApiError(
            13, "Runtime error occurred during code invocation: response size is too big"
        )
    tail = ',"execute_errors":' + dumps(errors) if errors else ""
    return '{"response":' + payload + tail + "}"
