"""CEL as organisation guardrails use it, decided without cel-python where that is certain.

cel-python (``celpy``) imports lark and pendulum and builds its LALR parser from the grammar on
every run: more than three times the import of typer. Most guardrail conditions use a small part of
CEL: members of the request, ``has()``, ``in`` a list, comparisons, ``&&``, ``||``, ``!``, ``? :``,
the list macros and ``sum()``. For those, ``parse`` builds the tree cel-python's grammar gives
(the same rules, children and tokens, so one walk of it checks members and finds the pointers)
and ``evaluate`` gives cel-python's result where that result is true or false. Everything else
raises ``Unsupported``, and cel-python decides: a construct, literal or operator outside that
part, an operand of a type it does not compare, and any condition whose result is an error or
not a boolean (its message is cel-python's). tests/test_cel.py compares both on generated
conditions and requests.
"""

from __future__ import annotations

import re

# Tokens of the supported part, as cel-python's lexer reads them; any other character is Unsupported.
TOKEN = re.compile(r"""(?P<space>[\t\n\f\r ]+)
    |(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)
    |(?P<int>[0-9]+)
    |(?P<string>"[^"\\\n\r]*"|'[^'\\\n\r]*')
    |(?P<op>\|\||&&|==|!=|<=|>=|[<>!?:.,()\[\]])""", re.X)
# Words the supported part does not take: the grammar's reserved words, and null.
RESERVED = frozenset("as break const continue else for function if import let loop package namespace "
                     "return var void while null".split())
RELATIONS = {"<": "relation_lt", "<=": "relation_le", ">": "relation_gt", ">=": "relation_ge",
             "==": "relation_eq", "!=": "relation_ne", "in": "relation_in"}
MACROS = ("all", "exists", "exists_one", "map", "filter")
INT64 = range(-2 ** 63, 2 ** 63)
# cel-python's evaluation takes about four Python frames a tree level and fails past about 550
# levels under the recursion limit it sets (2,500): deeper conditions are left to it, so that
# where it runs out of stack (a finding saying so) this module does not give a verdict instead.
MAX_DEPTH = 200


class Unsupported(Exception):
    """Outside what this module decides: cel-python decides."""


class Token(str):
    """A token as lark gives it: its text, and its terminal's name in ``type``."""

    def __new__(cls, kind: str, text: str):
        token = super().__new__(cls, text)
        token.type = kind
        return token


class Node:
    """A parse tree node as lark gives it: the grammar rule in ``data``, then nodes and tokens."""

    def __init__(self, data: str, children: list):
        self.data, self.children = data, children

    def iter_subtrees_topdown(self):
        """The nodes depth first, each before its children, left to right (lark's order)."""
        stack = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, Node):
                yield node
                stack.extend(reversed(node.children))


def from_lark(tree) -> Node:
    """cel-python's tree (lark's Tree and Token) as Nodes and Tokens; without recursion, so that
    a condition nested deeper than the walks over it can follow is still read."""
    root = Node(str(tree.data), [])
    pending = [(tree, root)]
    while pending:
        source, node = pending.pop()
        for child in source.children:
            if hasattr(child, "data"):
                node.children.append(Node(str(child.data), []))
                pending.append((child, node.children[-1]))
            else:
                node.children.append(Token(child.type, str(child)))
    return root


def depth(tree: Node) -> int:
    """The number of nodes on the longest path from the root."""
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in node.children if isinstance(child, Node))
    return deepest


# ----- parsing ------------------------------------------------------------------------------

def parse(text: str) -> Node:
    """The tree of an ``expr``; Unsupported when the text is outside the supported part or is
    not CEL (cel-python then says why)."""
    parser = _Parser(_tokens(text))
    try:
        tree = parser.expr()
    except RecursionError:
        raise Unsupported("nested too deeply") from None
    if parser.position != len(parser.tokens):
        raise Unsupported(f"unexpected {parser.peek()!r}")
    return tree


def _tokens(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        found = TOKEN.match(text, position)
        if found is None:
            raise Unsupported(f"character {text[position]!r}")
        kind, value = found.lastgroup, found.group()
        position = found.end()
        following = text[position:position + 1]
        if kind == "name" and following in ("'", '"'):
            raise Unsupported("a raw or bytes string")
        if kind == "int" and following and (following.isalnum() or following in "._"):
            raise Unsupported("a number other than a decimal int")
        if kind == "string" and following == value[0] and len(value) == 2:
            raise Unsupported("a triple-quoted string")
        if kind == "name" and value in RESERVED:
            raise Unsupported(f"keyword {value}")
        if kind != "space":
            tokens.append(_token(kind, value))
    return tokens


def _token(kind: str, value: str) -> Token:
    if kind == "name":
        return Token("BOOL_LIT" if value in ("true", "false") else "IN" if value == "in" else "IDENT", value)
    return Token({"int": "INT_LIT", "string": "STRING_LIT"}.get(kind, "OP"), value)


class _Parser:
    """Recursive descent over the grammar of celpy/cel.lark, building the nodes its LALR parser
    builds (every rule a node; left-recursive rules nested to the left)."""

    def __init__(self, tokens: list[Token]):
        self.tokens, self.position = tokens, 0

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, *texts: str) -> Token | None:
        token = self.peek()
        if token is not None and token in texts and token.type in ("OP", "IN"):
            self.position += 1
            return token
        return None

    def expect(self, text: str) -> None:
        if self.take(text) is None:
            raise Unsupported(f"expected {text!r}")

    def expr(self) -> Node:
        condition = self.conditionalor()
        if self.take("?") is None:
            return Node("expr", [condition])
        chosen = self.conditionalor()
        self.expect(":")
        return Node("expr", [condition, chosen, self.expr()])

    def conditionalor(self) -> Node:
        node = Node("conditionalor", [self.conditionaland()])
        while self.take("||"):
            node = Node("conditionalor", [node, self.conditionaland()])
        return node

    def conditionaland(self) -> Node:
        node = Node("conditionaland", [self.relation()])
        while self.take("&&"):
            node = Node("conditionaland", [node, self.relation()])
        return node

    def relation(self) -> Node:
        node = Node("relation", [self.addition()])
        while (operator := self.take(*RELATIONS)) is not None:
            node = Node("relation", [Node(RELATIONS[operator], [node]), self.addition()])
        return node

    def addition(self) -> Node:
        return Node("addition", [Node("multiplication", [self.unary()])])

    def unary(self) -> Node:
        if self.take("!"):
            return Node("unary", [Node("unary_not", []), self.unary()])
        return Node("unary", [self.member()])

    def member(self) -> Node:
        node = Node("member", [self.primary()])
        while True:
            if self.take("."):
                name = self.identifier()
                if self.take("("):
                    node = Node("member", [Node("member_dot_arg", [node, name] + self.arguments(")"))])
                else:
                    node = Node("member", [Node("member_dot", [node, name])])
            elif self.take("["):
                index = self.expr()
                self.expect("]")
                node = Node("member", [Node("member_index", [node, index])])
            else:
                return node

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise Unsupported("unexpected end")
        if token.type in ("INT_LIT", "STRING_LIT", "BOOL_LIT"):
            self.position += 1
            return Node("primary", [Node("literal", [token])])
        if token.type == "IDENT":
            self.position += 1
            if self.take("("):
                return Node("primary", [Node("ident_arg", [token] + self.arguments(")"))])
            return Node("primary", [Node("ident", [token])])
        if self.take("("):
            inner = self.expr()
            self.expect(")")
            return Node("primary", [Node("paren_expr", [inner])])
        if self.take("["):
            return Node("primary", [Node("list_lit", self.arguments("]"))])
        raise Unsupported(f"unexpected {token!r}")

    def identifier(self) -> Token:
        token = self.peek()
        if token is None or token.type != "IDENT":
            raise Unsupported("expected a name")
        self.position += 1
        return token

    def arguments(self, closing: str) -> list[Node]:
        """``[exprlist] closing``: [] or [the exprlist node]."""
        if self.take(closing):
            return []
        items = [self.expr()]
        while self.take(","):
            items.append(self.expr())
        self.expect(closing)
        return [Node("exprlist", items)]


# ----- cost -------------------------------------------------------------------------------

# Steps one evaluation of a condition may take, by its bound below: far above what a condition over
# a real request takes (a few thousand), far below what a hang would.
COST_BUDGET = 10_000_000


def cost(tree: Node, variables: dict) -> int:
    """An upper bound of the steps evaluating ``tree`` on ``variables`` takes, by either evaluator:
    its nodes, each run once per item of every macro (``all``, ``exists``, ``map``...) around it,
    over a list no longer than the variables' longest (or all the items of the lists the condition
    writes). ``request.X.all(a, request.X.all(b, ...))`` over 100,000 items is 10^10."""
    nodes, deepest, written, pending = 0, 0, 0, [(tree, 0)]
    while pending:
        node, macros = pending.pop()
        nodes += 1
        if node.data == "member_dot_arg" and len(node.children) > 1 and str(node.children[1]) in MACROS:
            macros += 1
        if node.data == "list_lit" and node.children:
            written += len(node.children[0].children)
        deepest = max(deepest, macros)
        pending.extend((child, macros) for child in node.children if isinstance(child, Node))
    longest, values = 0, list(variables.values())
    while values:
        value = values.pop()
        if isinstance(value, (list, dict)):
            longest = max(longest, len(value))
            values.extend(value.values() if isinstance(value, dict) else value)
    return nodes * (max(longest, written) + 1) ** min(deepest, 64)


# ----- evaluation ---------------------------------------------------------------------------

class _Error:
    """A CEL error value: ``&&``, ``||``, ``has()`` and the all/exists macros may absorb it."""


ERROR = _Error()


def evaluate(tree: Node, variables: dict) -> bool:
    """The condition's value on JSON variables when it is true or false; Unsupported otherwise
    (also where a variable holds an int cel-python cannot hold: its conversion fails)."""
    if not all(_fits(value) for value in variables.values()):
        raise Unsupported("an int beyond int64")
    if depth(tree) > MAX_DEPTH:
        raise Unsupported("nested deeper than cel-python surely evaluates")
    try:
        value = _value(tree, variables)
    except RecursionError:
        raise Unsupported("nested too deeply") from None
    if type(value) is not bool:
        raise Unsupported("not true or false")
    return value


def _fits(value) -> bool:
    if isinstance(value, dict):
        return all(_fits(item) for item in value.values())
    if isinstance(value, list):
        return all(_fits(item) for item in value)
    return not isinstance(value, int) or value in INT64


def _value(node: Node, scope: dict):
    handler = HANDLERS.get(node.data)
    if handler is None:
        raise Unsupported(node.data)
    return handler(node.children, scope)


def _single(children, scope):
    if len(children) != 1:
        raise Unsupported("an operator outside the supported part")
    return _value(children[0], scope)


def _expr(children, scope):
    if len(children) == 1:
        return _value(children[0], scope)
    condition = _value(children[0], scope)
    if type(condition) is not bool:
        raise Unsupported("a condition that is not true or false")
    return _value(children[1] if condition else children[2], scope)


def _or(children, scope):
    return _logical(children, scope, absorbing=True)


def _and(children, scope):
    return _logical(children, scope, absorbing=False)


def _logical(children, scope, absorbing: bool):
    if len(children) == 1:
        return _value(children[0], scope)
    return _combine(absorbing, _value(children[0], scope), _value(children[1], scope))


def _combine(absorbing: bool, left, right):
    """``||`` (absorbing True) or ``&&`` (absorbing False) of two evaluated sides: the absorbing
    value wins over an error, an error over the other value (CEL's commutative rule)."""
    for value in (left, right):
        if type(value) is not bool and value is not ERROR:
            raise Unsupported("a logical operand that is not true or false")
    if left is absorbing or right is absorbing:
        return absorbing
    return ERROR if left is ERROR or right is ERROR else not absorbing


def _kind(value) -> type | None:
    """str, int or bool: the types compared here (floats, lists, maps and null are not)."""
    kind = type(value)
    return kind if kind in (str, int, bool) else None


def _relation(children, scope):
    if len(children) == 1:
        return _value(children[0], scope)
    operator, right_node = children
    left, right = _value(operator.children[0], scope), _value(right_node, scope)
    if left is ERROR or right is ERROR:
        return ERROR
    if operator.data == "relation_in":
        return _contains(right, left)
    kind = _kind(left)
    if kind is None or type(right) is not kind:
        raise Unsupported("operands of different or uncompared types")
    if operator.data in ("relation_eq", "relation_ne"):
        return (left == right) == (operator.data == "relation_eq")
    if kind is bool:
        raise Unsupported("an ordering of booleans")
    return {"relation_lt": left < right, "relation_le": left <= right,
            "relation_gt": left > right, "relation_ge": left >= right}[operator.data]


def _contains(container, item) -> bool:
    kind = _kind(item)
    members = container if isinstance(container, (list, dict)) else None
    if kind is None or members is None or any(type(member) is not kind for member in members):
        raise Unsupported("`in` over other than a list or map of the item's type")
    return item in members


def _unary(children, scope):
    if len(children) == 1:
        return _value(children[0], scope)
    operator, operand = children
    value = _value(operand, scope)
    if operator.data != "unary_not" or (type(value) is not bool and value is not ERROR):
        raise Unsupported("a unary operator other than ! on a boolean")
    return value if value is ERROR else not value


def _member_dot(children, scope):
    base = _value(children[0], scope)
    if isinstance(base, dict) and str(children[1]) in base:
        return base[str(children[1])]
    return ERROR  # an absent member, or a member of what has none


def _member_index(children, scope):
    base, index = _value(children[0], scope), _value(children[1], scope)
    if base is ERROR or index is ERROR:
        return ERROR
    if isinstance(base, dict) and type(index) is str:
        return base.get(index, ERROR)
    if isinstance(base, list) and type(index) is int and index >= 0:
        return base[index] if index < len(base) else ERROR
    raise Unsupported("an index other than a map's string or a list's position")


def _member_dot_arg(children, scope):
    name = str(children[1])
    arguments = children[2].children if len(children) > 2 else []
    variable = bound_name(arguments[0]) if len(arguments) == 2 else None
    if name not in MACROS or variable is None:
        raise Unsupported(f"method {name}")
    items = _value(children[0], scope)
    if items is ERROR:
        return ERROR
    if not isinstance(items, list):
        raise Unsupported("a macro over other than a list")
    results = [_value(arguments[1], {**scope, variable: item}) for item in items]
    if name in ("all", "exists"):  # the results folded with && from true, or || from false
        absorbing, outcome = name == "exists", name == "all"
        for result in results:
            outcome = _combine(absorbing, outcome, result)
        return outcome
    if any(result is ERROR for result in results):
        raise Unsupported("an error inside map, filter or exists_one")
    if name == "map":
        return results
    if any(type(result) is not bool for result in results):
        raise Unsupported("a filter or exists_one predicate that is not true or false")
    return [item for item, keep in zip(items, results) if keep] if name == "filter" else results.count(True) == 1


def bound_name(node) -> str | None:
    """The name when ``node`` is nothing but an identifier (a macro's bound variable)."""
    while isinstance(node, Node) and len(node.children) == 1 and node.data != "ident":
        node = node.children[0]
    return str(node.children[0]) if isinstance(node, Node) and node.data == "ident" else None


def _primary(children, scope):
    (child,) = children
    if child.data == "paren_expr":
        return _value(child.children[0], scope)
    if child.data == "list_lit":
        values = [_value(item, scope) for item in child.children[0].children] if child.children else []
        return next((value for value in values if value is ERROR), values)
    if child.data == "ident":
        if str(child.children[0]) not in scope:
            raise Unsupported(f"name {child.children[0]}")
        return scope[str(child.children[0])]
    if child.data == "ident_arg":
        return _call(str(child.children[0]), child.children[1].children if len(child.children) > 1 else [], scope)
    if child.data == "literal":
        return _literal(child.children[0])
    raise Unsupported(child.data)


def _call(name: str, arguments: list, scope):
    if name == "has" and arguments:
        values = [_value(argument, scope) for argument in arguments]
        return values[0] is not ERROR
    if name == "sum" and len(arguments) == 1:
        values = _value(arguments[0], scope)
        if values is ERROR:
            return ERROR
        if not isinstance(values, list) or any(type(value) is not int for value in values):
            raise Unsupported("sum() of other than ints")
        total = 0
        for value in values:
            total += value
            if total not in INT64:
                raise Unsupported("sum() beyond int64")
        return total
    raise Unsupported(f"function {name}")


def _literal(token: Token):
    text = str(token)
    if token.type == "INT_LIT" and text.isascii() and text.isdigit() and int(text) in INT64:
        return int(text)
    if token.type == "STRING_LIT" and text[:1] in ("'", '"') and text[-1:] == text[:1] and "\\" not in text \
            and not text.startswith(text[0] * 3):
        return text[1:-1]
    if token.type == "BOOL_LIT":
        return text == "true"
    raise Unsupported(f"literal {text}")


HANDLERS = {
    "expr": _expr, "conditionalor": _or, "conditionaland": _and, "relation": _relation,
    "addition": _single, "multiplication": _single, "unary": _unary, "member": _single,
    "member_dot": _member_dot, "member_dot_arg": _member_dot_arg, "member_index": _member_index,
    "primary": _primary,
}
