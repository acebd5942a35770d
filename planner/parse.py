"""`parse(text) -> Expr`: PromQL text to a type-checked AST, or `ParseError` in Prometheus's words.

The grammar is `promql.lark` (lark LALR), fed by the context-sensitive lexer in `lexer.py`;
`build.py` holds the grammar actions. On a syntax error this module mimics yacc: it applies
the default reductions yacc would make, then names the innermost open construct that
Prometheus's grammar has an error rule for ("in label matching", "in grouping opts", ...).
Type checking (`check.py`) runs only when the text parsed without errors.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer as LarkLexer
from lark.parsers.lalr_analysis import Reduce

from planner.ast import Expr
from planner.build import STATE, Builder, _AggOp, _Body, _Duration, _LabelList, _MatcherList
from planner.check import check
from planner.errors import ErrorItem, ParseError
from planner.lexer import Lexer, LexError, describe

GRAMMAR_PATH = Path(__file__).with_name("promql.lark")

_GROUPING_KEYWORDS = ("BY", "WITHOUT", "ON", "IGNORING", "GROUP_LEFT", "GROUP_RIGHT")
_MATCH_OPS = ("EQL", "NEQ", "EQL_REGEX", "NEQ_REGEX")


class _PromLexer(LarkLexer):
    __future_interface__ = 2

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        text = lexer_state.text
        return Lexer(text.text if hasattr(text, "text") else text).tokens()


_parser_lock = threading.Lock()
_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    with _parser_lock:
        if _parser is None:
            _parser = Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer=_PromLexer, transformer=Builder(),
                           maybe_placeholders=True)
        return _parser


def parse(text: str, *, experimental_functions: bool = True) -> Expr:
    """Parse and type-check one PromQL expression (raises ParseError)."""
    expr = parse_unchecked(text, experimental_functions=experimental_functions)
    try:
        problems = check(expr, text)
    except RecursionError:
        problems = [((0, len(text)), "expression nested too deeply")]
    if problems:
        raise ParseError([ErrorItem(pos, message, text) for pos, message in problems])
    return expr


def parse_unchecked(text: str, *, experimental_functions: bool = True) -> Expr:
    """Parse without the type-checking pass (raises ParseError for syntax errors)."""
    parser = _get_parser()
    STATE.errors = []
    STATE.experimental_functions = experimental_functions
    result: Any = None
    try:
        result = parser.parse(text)
    except LexError as err:
        STATE.error((err.start, err.end), err.message)
    except UnexpectedToken as err:
        STATE.error(*_describe_unexpected(err, text))
    except UnexpectedInput as err:  # pragma: no cover - the custom lexer raises LexError instead
        STATE.error((0, 0), str(err))
    except RecursionError:
        STATE.error((0, len(text)), "expression nested too deeply")
    errors = STATE.errors
    STATE.errors = []
    if errors:
        raise ParseError([ErrorItem(pos, message, text) for pos, message in errors])
    if isinstance(result, Expr):
        return result
    children = getattr(result, "children", None)
    if children and isinstance(children[0], Expr):
        return children[0]
    raise ParseError([ErrorItem((0, 0), "no expression found in input", text)])  # pragma: no cover


def _describe_unexpected(err: UnexpectedToken, text: str) -> tuple[tuple[int, int], str]:
    token = err.token
    is_end = token.type == "$END"
    pos = (len(text), len(text)) if is_end else (token.start_pos or 0, token.end_pos or 0)
    stack = _apply_default_reductions(err)
    if is_end and not stack:
        return (0, 0), "no expression found in input"
    message = "unexpected " + describe(token.type, "" if is_end else str(token))
    context, expected = _context(stack)
    if context:
        message += f" in {context}"
    if expected:
        message += f", expected {expected}"
    return pos, message


def _apply_default_reductions(err: UnexpectedToken) -> list[Any]:
    """Reduce as yacc would before noticing the error; return the resulting value stack."""
    interactive = getattr(err, "interactive_parser", None)
    if interactive is None:
        return []
    state = interactive.parser_state
    states = state.parse_conf.states
    callbacks = state.parse_conf.callbacks
    state_stack, value_stack = list(state.state_stack), list(state.value_stack)
    for _ in range(1000):
        actions = states[state_stack[-1]]
        reductions = Counter(arg for action, arg in actions.values() if action is Reduce)
        if not reductions:
            break
        rule = reductions.most_common(1)[0][0]
        if rule.origin.name == "start":
            break
        size = len(rule.expansion)
        args = value_stack[-size:] if size else []
        if size:
            del state_stack[-size:]
            del value_stack[-size:]
        goto = states[state_stack[-1]].get(rule.origin.name)
        if goto is None:
            break
        value_stack.append(callbacks[rule](args))
        state_stack.append(goto[1])
    return value_stack


def _is_tok(item: Any, *types: str) -> bool:
    return isinstance(item, Token) and item.type in types


def _context(stack: list[Any]) -> tuple[str, str]:
    """The innermost construct with an error rule in Prometheus's grammar: (context, expected)."""
    for i in range(len(stack) - 1, -1, -1):
        item = stack[i]
        prev = stack[i - 1] if i > 0 else None
        # label matching inside braces
        if _is_tok(item, "LEFT_BRACE") or (_is_tok(item, "COMMA") and isinstance(prev, _MatcherList)):
            return "label matching", 'identifier or "}"'
        if isinstance(item, _MatcherList):
            return "label matching", '"," or "}"'
        in_braces = _is_tok(prev, "LEFT_BRACE") or (_is_tok(prev, "COMMA") and i > 1
                                                     and isinstance(stack[i - 2], _MatcherList))
        if in_braces and _is_tok(item, "IDENTIFIER"):
            return "label matching", "label matching operator"
        if in_braces and _is_tok(item, "STRING"):
            return "label matching", '"," or "}"'
        if _is_tok(item, *_MATCH_OPS) and i > 1 and _is_tok(prev, "IDENTIFIER", "STRING"):
            return "label matching", "string"
        # grouping labels
        if _is_tok(item, "BY", "WITHOUT") and isinstance(prev, _AggOp | _Body):
            return "grouping opts", '"("'
        if _is_tok(item, "ON", "IGNORING") and isinstance(prev, Token):
            return "grouping opts", '"("'
        if _is_tok(item, "LEFT_PAREN") and _is_tok(prev, *_GROUPING_KEYWORDS):
            return "grouping opts", "label"
        if _is_tok(item, "COMMA") and isinstance(prev, _LabelList):
            return "grouping opts", "label"
        if isinstance(item, _LabelList):
            return "grouping opts", '"," or ")"'
        # modifiers
        if _is_tok(item, "OFFSET") and isinstance(prev, Expr):
            return "offset", "number, duration, step(), or range()"
        if _is_tok(item, "AT") and isinstance(prev, Expr):
            return "@", "timestamp"
        if isinstance(item, _Duration) and _is_tok(prev, "LEFT_BRACKET"):
            return "subquery or range", '":" or "]"'
        if isinstance(item, _Duration) and _is_tok(prev, "COLON"):
            return "subquery selector", '"]"'
        if _is_tok(item, "COLON") and isinstance(prev, _Duration):
            return "subquery selector", 'number, duration, step(), range(), or "]"'
        if _is_tok(item, "LEFT_BRACKET") and isinstance(prev, Expr):
            return "subquery or range selector", "number, duration, step(), or range()"
        if isinstance(item, _AggOp):
            return "aggregation", ""
    return "", ""
