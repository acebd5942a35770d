"""Label matcher semantics: fully anchored regexes and the empty string for absent labels.

Prometheus compiles regexes with Go's RE2 syntax; Python's `re` is close enough to decide
whether a matcher matches the empty string (the type checker needs that) and to reject
clearly broken patterns. Patterns that use RE2-only syntax Python lacks are accepted as is:
the workers run them with RE2 (`regexp_full_match`) anyway.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.ast import Matcher

_RE2_ONLY = re.compile(r"\\[pPzCQE]|\[\[:|\(\?[a-zA-Z]*U")


def _scope_inline_flags(pattern: str) -> str:
    """RE2 lets `(?i)` appear anywhere (it lasts to the end of the group); Python wants `(?i:...)`."""
    out: list[str] = []
    scoped: list[list[str]] = [[]]  # per open group: the flag groups opened inside it
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append(pattern[i : j + 1])
            i = j + 1
            continue
        flags = _INLINE_FLAGS.match(pattern, i)
        if flags:
            out.append(f"(?{flags.group(1)}:")
            scoped[-1].append(flags.group(1))
            i = flags.end()
            continue
        if ch == "(":
            scoped.append([])
        elif ch == ")" and len(scoped) > 1:
            out.append(")" * len(scoped.pop()))
        elif ch == "|" and scoped[-1]:
            # flags set before `|` still hold after it, within the same group
            out.append(")" * len(scoped[-1]) + "|" + "".join(f"(?{f}:" for f in scoped[-1]))
            i += 1
            continue
        out.append(ch)
        i += 1
    out.append(")" * len(scoped[0]))
    return "".join(out)


_INLINE_FLAGS = re.compile(r"\(\?([imsU-]+)\)")


@functools.lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> re.Pattern[str] | None:
    """The anchored pattern, or None when only RE2 can read it (raises ValueError if invalid)."""
    try:
        return re.compile(f"(?s:{_scope_inline_flags(pattern)})\\Z")
    except re.error as err:
        if _RE2_ONLY.search(pattern):
            return None
        raise ValueError(f"error parsing regexp: {err}: `{pattern}`") from None
    except (OverflowError, RecursionError):
        raise ValueError(f"error parsing regexp: expression too large: `{pattern}`") from None


def matcher_matches(matcher: Matcher, value: str) -> bool:
    op = matcher.op.value
    if op == "=":
        return value == matcher.value
    if op == "!=":
        return value != matcher.value
    try:
        compiled = compile_regex(matcher.value)
    except ValueError:
        return False
    hit = compiled.match(value) is not None if compiled is not None else value == matcher.value
    return hit if op == "=~" else not hit
