"""Layer specs: how every layer kind is written, checked and made.

A layer kind is a :class:`~skcnn._engine.base.Layer` subclass registered with
:func:`register`. The class states how it is written (``kind``, ``aliases``,
``arguments``, ``examples``); everything else comes from that: parsing, the
usage and error texts (with suggestions for misspelt kinds), the names of the
layers of a network, the table of kinds in the documentation and the random
architectures of the tests.

A spec is a string of words joined by ``":"``, or a tuple of the same
values: the kind first, then its arguments in order. Arguments may also be
named: ``"conv:8:3:dilation=2"``, or a dict at the end of a tuple,
``("conv", 8, 3, {"dilation": 2})``. Block kinds take tuples of specs:
``("residual", ("conv:16:3", "bn", "relu", "conv:16:3", "bn"))``.

A parsed spec is a plain tuple with every argument checked and filled in,
``("conv", 8, 3, 1, "same")``: hashable, comparable, and what ``clone`` and
``GridSearchCV`` handle as any other value. Trailing arguments left at a
fixed default are left out, so a spec keeps the form it had before the
argument existed.
"""

import difflib
import keyword
from dataclasses import dataclass, replace
from numbers import Integral, Real

from .base import Layer

#: The default of an argument that has none: the spec must give it.
REQUIRED = object()


@dataclass(frozen=True)
class SpecContext:
    """What specs are parsed and made with, beyond their own words.

    Attributes
    ----------
    padding : {"same", "valid"}
        The default padding of convolutions and pooling (the estimator's
        ``padding``).
    signal : bool
        Whether the input is a 1-D signal (an image of height 1): int sizes
        then run along its length.
    conv_algorithm : str
        What convolutions compute with (the estimator's ``conv_algorithm``).
    reorder : bool
        Whether networks run a ReLU that precedes a max pooling after it.
    flat : bool
        Whether the input of the layer being made is flat ``(features,)``:
        set by :func:`make_layers` for every layer, so that a block makes
        its body for the input it gets.
    """

    padding: str = "same"
    signal: bool = False
    conv_algorithm: str = "auto"
    reorder: bool = True
    flat: bool = False


# --- arguments ------------------------------------------------------------------


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


class Argument:
    """One argument of a layer spec: its name, what it accepts, its default.

    The argument's name is also the keyword of the layer's constructor and the
    attribute the built layer keeps it in, so that a layer gives its own spec
    back (:meth:`~skcnn._engine.base.Layer.spec`).

    Parameters
    ----------
    name : str
    default : object, optional
        Without one the argument is required. A callable
        ``default(values, context)`` computes it from the arguments before it
        (``values``, a dict) and the :class:`SpecContext`.
    default_doc : str, optional
        How the documentation states a computed default.
    help : str, default=""
        One line for the documentation.
    """

    #: What :meth:`check` accepts, for error messages.
    expected = "a value"
    #: Valid values that random architectures in the tests draw from.
    samples = ()

    def __init__(self, name, default=REQUIRED, *, default_doc=None, help=""):
        if not (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)):
            raise TypeError(f"an argument's name must be an identifier; got {name!r}.")
        self.name = name
        self.default = default
        self.default_doc = default_doc
        self.help = help

    @property
    def required(self):
        return self.default is REQUIRED

    @property
    def fixed_default(self):
        """Whether the default is one value, not computed."""
        return not self.required and not callable(self.default)

    def default_value(self, values, context):
        return self.default(values, context) if callable(self.default) else self.default

    def is_default(self, value):
        """Whether ``value`` is the fixed default, resolved or not (see :func:`spec_tuple`)."""
        return self.fixed_default and type(value) is type(self.default) and value == self.default

    def accepts(self, value):
        """Whether ``value`` is valid; subclasses say."""
        return True

    def check(self, value, where, context):
        """``value`` as the spec keeps it; a ``ValueError`` naming ``where`` if invalid."""
        if not self.accepts(value):
            raise ValueError(f"{where}: {self.name} must be {self.expected}; got {value!r}.")
        return self.normalize(value)

    def normalize(self, value):
        return value

    def resolve(self, value, context):
        """The value as the layer's constructor takes it, for the input of ``context``."""
        return value

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class Integer(Argument):
    """An int of at least ``low``."""

    samples = (1, 2, 3, 4)

    def __init__(self, name, default=REQUIRED, *, low=1, **kwargs):
        super().__init__(name, default, **kwargs)
        self.low = low
        self.expected = f"an int >= {low}"

    def accepts(self, value):
        return _is_int(value) and value >= self.low

    def normalize(self, value):
        return int(value)


class Float(Argument):
    """A real number in an interval; ``closed`` says which ends belong to it."""

    def __init__(self, name, default=REQUIRED, *, low=None, high=None, closed="both", **kwargs):
        super().__init__(name, default, **kwargs)
        self.low, self.high, self.closed = low, high, closed
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        if low is None and high is None:
            self.expected = "a number"
        elif high is None:
            self.expected = f"a number {'>=' if left == '[' else '>'} {low}"
        elif low is None:
            self.expected = f"a number {'<=' if right == ']' else '<'} {high}"
        else:
            self.expected = f"a number in {left}{low}, {high}{right}"
        candidates = (0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 1.0, 2.0)
        self.samples = tuple(v for v in candidates if self.accepts(v))

    def accepts(self, value):
        if isinstance(value, bool) or not isinstance(value, Real) or value != value:
            return False
        closed = self.closed
        low_ok = (
            self.low is None
            or value > self.low
            or (value == self.low and closed in ("both", "left"))
        )
        high_ok = (
            self.high is None
            or value < self.high
            or (value == self.high and closed in ("both", "right"))
        )
        return low_ok and high_ok

    def normalize(self, value):
        return float(value)


class Size(Argument):
    """An int >= 1 or a ``(height, width)`` pair of them.

    An int is square on images and runs along the length of signals; the
    built layer takes the pair.
    """

    expected = "an int >= 1 or a (height, width) pair of them"
    samples = (1, 2, 3, (1, 2), (2, 3))

    def accepts(self, value):
        if _is_int(value):
            return value >= 1
        return (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(_is_int(v) and v >= 1 for v in value)
        )

    def normalize(self, value):
        return int(value) if _is_int(value) else (int(value[0]), int(value[1]))

    def resolve(self, value, context):
        if isinstance(value, tuple):
            return value
        return (1, value) if context.signal else (value, value)

    def is_default(self, value):
        # A default of 1 resolves to (1, 1) on images and signals alike.
        return super().is_default(value) or (self.default == 1 and value == (1, 1))


class Choice(Argument):
    """One of a few words."""

    def __init__(self, name, options, default=REQUIRED, **kwargs):
        super().__init__(name, default, **kwargs)
        self.options = tuple(options)
        self.expected = " or ".join(repr(o) for o in self.options)
        if len(self.options) > 2:
            self.expected = "one of " + ", ".join(repr(o) for o in self.options)
        self.samples = self.options

    def accepts(self, value):
        return isinstance(value, str) and value in self.options


def padding_argument():
    """``padding``: ``"same"`` or ``"valid"``, by default the estimator's ``padding``."""
    return Choice(
        "padding",
        ("valid", "same"),
        default=lambda values, context: context.padding,
        default_doc="the estimator's ``padding``",
        help="'same' keeps ceil(size / stride) positions; 'valid' only those inside",
    )


class Specs(Argument):
    """A sequence of layer specs: the body of a block, or a branch.

    A single spec string stands for a sequence of one.
    """

    expected = "a tuple of layer specs such as ('conv:16:3', 'bn', 'relu')"

    def check(self, value, where, context):
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, (tuple, list)) or not value:
            raise ValueError(f"{where}: {self.name} must be {self.expected}; got {value!r}.")
        if isinstance(value[0], str) and any(_is_value(v) for v in value[1:]):
            raise ValueError(
                f"{where}: {self.name} must be {self.expected}; got {value!r}, which reads "
                f"as one spec: write a body of one layer as ({value!r},)."
            )
        return tuple(parse_spec(spec, f"{where}[{i}]", context) for i, spec in enumerate(value))


def _is_value(value):
    """Whether ``value`` is a plain argument value rather than a spec."""
    return not isinstance(value, (str, tuple, list)) or (isinstance(value, tuple) and not value)


# --- the registry -----------------------------------------------------------------

_KINDS = {}  # kind -> layer class
_WORDS = {}  # every kind and alias, lower case -> kind
_BUILTIN = set()  # the kinds of skcnn's own (see freeze_builtins)


def register(cls):
    """Make a :class:`~skcnn._engine.base.Layer` subclass a layer kind of ``layers=`` specs.

    Use it as a class decorator. The class must set ``kind`` (the first
    word of its specs) and define ``forward`` and ``backward``; it may set
    ``aliases``, ``arguments`` (a tuple of :class:`Argument`), ``examples``
    and the other class attributes of :class:`~skcnn._engine.base.Layer`.
    Registering a class again under the same kind replaces the earlier one
    (a module imported twice, a class edited in a notebook).

    Returns
    -------
    cls : type
        The class itself.
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register takes a subclass of skcnn.layers.Layer; got {cls!r}.")
    kind = cls.__dict__.get("kind")
    if not isinstance(kind, str) or not kind.isidentifier() or kind != kind.lower():
        raise TypeError(
            f"{cls.__name__}.kind must be the lower-case word that names the layer in "
            f"specs, such as 'scale'; got {kind!r}."
        )
    missing = [
        name for name in ("forward", "backward") if getattr(cls, name) is getattr(Layer, name)
    ]
    if missing:
        raise TypeError(
            f"{cls.__name__} cannot be registered as a layer kind: it does not define "
            f"{' and '.join(missing)}. A layer computes forward(X, training=False) -> output "
            f"and backward(grad_out, need_input_grad=True) -> dL/d(input)."
        )
    arguments = cls.arguments
    if not isinstance(arguments, tuple) or not all(isinstance(a, Argument) for a in arguments):
        raise TypeError(
            f"{cls.__name__}.arguments must be a tuple of skcnn.layers arguments (Integer, "
            f"Float, Size, Choice, ...); got {arguments!r}."
        )
    names = [a.name for a in arguments]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}.arguments repeats a name: {names}.")
    seen_default = False
    for argument in arguments:
        if argument.required and seen_default:
            raise TypeError(
                f"{cls.__name__}.arguments: the required argument {argument.name!r} comes "
                f"after an argument with a default."
            )
        seen_default = seen_default or not argument.required
    if kind in _BUILTIN and _KINDS[kind] is not cls:
        raise TypeError(
            f"{cls.__name__}: {kind!r} is a layer kind of skcnn's own; give your layer "
            f"another kind."
        )
    words = [kind, *(alias.lower() for alias in cls.aliases)]
    for word in words:
        owner = _KINDS.get(_WORDS.get(word))
        if owner is not None and _WORDS[word] != kind:
            raise TypeError(
                f"{cls.__name__}: the word {word!r} already names the layer kind "
                f"{_WORDS[word]!r} ({owner.__module__}.{owner.__qualname__})."
            )
    previous = _KINDS.get(kind)
    if previous is not None:  # the same kind again: drop the words of the old class
        for word in [w for w, k in _WORDS.items() if k == kind]:
            del _WORDS[word]
    _KINDS[kind] = cls
    for word in words:
        _WORDS[word] = kind
    return cls


def freeze_builtins():
    """Mark every kind registered so far as skcnn's own: no class may replace them."""
    _BUILTIN.update(_KINDS)


def is_builtin(kind):
    """Whether ``kind`` is a layer kind of skcnn's own (not registered by a user)."""
    return kind in _BUILTIN


def layer_class(kind):
    """The registered class of ``kind`` (a kind or an alias); ``KeyError`` if none."""
    return _KINDS[_WORDS[kind.lower()]]


def registered_kinds():
    """Every registered kind, in the order of registration."""
    return list(_KINDS)


def spec_words():
    """Every word that starts a spec: the kinds and their aliases."""
    return sorted(_WORDS)


def suggestions(word):
    """Close spellings of ``word`` among the spec words, best first."""
    word = str(word).lower()
    words = spec_words()
    stem = word.rstrip("0123456789.x")
    close = []
    if stem != word and stem in _WORDS:  # "maxpool2": the arguments lost their ":"
        close.append(f"{stem}:{word[len(stem) :]}")
    close += difflib.get_close_matches(word, words, n=3, cutoff=0.6)
    close += [w for w in words if w.startswith(word) and w not in close][:3]
    return list(dict.fromkeys(close))[:3]


# --- parsing ----------------------------------------------------------------------


def _parse_token(token):
    if token.isdigit():
        return int(token)
    try:
        return float(token)
    except ValueError:
        pass
    parts = token.split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return (int(parts[0]), int(parts[1]))
    return token


def _split_string(spec):
    """``"conv:8:3:dilation=2"`` -> ``("conv", 8, 3)``, ``{"dilation": 2}``."""
    words = [word.strip() for word in spec.split(":")]
    args, kwargs = [words[0]], {}
    for word in words[1:]:
        name, equals, value = word.partition("=")
        if equals:
            kwargs[name.strip()] = _parse_token(value.strip())
        elif kwargs:
            raise ValueError(f"a positional argument ({word!r}) follows named ones")
        else:
            args.append(_parse_token(word))
    return tuple(args), kwargs


def usage(cls):
    """How a spec of ``cls`` is written: ``"('conv', filters, kernel_size[, stride ...])"``."""
    text = f"({cls.kind!r}"
    optional = 0
    for argument in cls.arguments:
        if argument.required:
            text += f", {argument.name}"
        else:
            text += f"[, {argument.name}"
            optional += 1
    if cls.variadic:
        text += ", ..."
    return text + "]" * optional + (",)" if not cls.arguments else ")")


def parse_spec(spec, where, context=None):
    """Check one layer spec; return it as a tuple with its defaults filled in.

    >>> parse_spec("conv:8:3x5", "layers[0]")
    ('conv', 8, (3, 5), 1, 'same')
    >>> parse_spec(("pool", 3), "layers[1]", SpecContext(padding="valid"))
    ('maxpool', 3, 3, 'valid')
    """
    context = SpecContext() if context is None else context
    kwargs = {}
    if isinstance(spec, type):  # a layer class alone: its spec without arguments
        spec = (spec,)
    if isinstance(spec, (tuple, list)) and spec and isinstance(spec[0], type):
        spec = (_kind_of_class(spec[0], where), *spec[1:])
    if isinstance(spec, str):
        try:
            spec, kwargs = _split_string(spec)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc} in {spec!r}.") from None
    elif isinstance(spec, list):
        spec = tuple(spec)
    if isinstance(spec, tuple) and len(spec) > 1 and isinstance(spec[-1], dict):
        kwargs, spec = dict(spec[-1]), spec[:-1]
    if not isinstance(spec, tuple) or not spec or not isinstance(spec[0], str):
        raise ValueError(
            f"{where} must be a layer spec such as ('conv', 32, 3), 'maxpool:2', "
            f"'relu' or 'dense:64'; got {spec!r}."
        )
    word = spec[0].strip()
    try:
        cls = layer_class(word)
    except KeyError:
        close = suggestions(word)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{where}: unknown layer kind {word!r}.{hint} The kinds are "
            f"{', '.join(registered_kinds())} (see skcnn.layers.register for your own)."
        ) from None
    values = _parse_arguments(cls, spec[1:], kwargs, where, context, spec)
    return spec_tuple(cls, values)


def _kind_of_class(cls, where):
    """The kind of a layer class written in place of its kind; registered if it is not."""
    if not issubclass(cls, Layer):
        raise ValueError(f"{where}: {cls.__name__} is not a subclass of skcnn.layers.Layer.")
    if cls.__dict__.get("kind") is None or _KINDS.get(cls.kind) is not cls:
        register(cls)
    return cls.kind


def custom_classes(specs):
    """``{kind: class}`` of the kinds in ``specs`` (nested too) that users registered."""
    found = {}

    def visit(value):
        if isinstance(value, type) and issubclass(value, Layer) and value.kind:
            if not is_builtin(value.kind):
                found[value.kind] = value
        elif isinstance(value, str):
            word = value.split(":", 1)[0].strip().lower()
            kind = _WORDS.get(word)
            if kind is not None and not is_builtin(kind):
                found[kind] = _KINDS[kind]
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    visit(specs)
    return found


def _parse_arguments(cls, args, kwargs, where, context, spec):
    arguments = cls.arguments
    written = f"a {cls.kind} layer is written {usage(cls)}"
    if cls.variadic:
        fixed = arguments[:-1]
        if len(args) < len(fixed) + 1:
            raise ValueError(f"{where}: {written}; got {spec!r}.")
        values = dict(zip((a.name for a in fixed), args))
        rest = args[len(fixed) :]
        last = arguments[-1]
        values[last.name] = tuple(
            last.check(v, f"{where}[{len(fixed) + 1 + i}]", context) for i, v in enumerate(rest)
        )
        arguments = fixed
    else:
        if len(args) > len(arguments):
            raise ValueError(f"{where}: {written}; got {spec!r}.")
        values = dict(zip((a.name for a in arguments), args))
    names = [a.name for a in cls.arguments]
    for name, value in kwargs.items():
        if name not in names:
            raise ValueError(
                f"{where}: a {cls.kind} layer has no argument {name!r}; its arguments are "
                f"{', '.join(names) or 'none'} ({usage(cls)})."
            )
        if name in values:
            raise ValueError(f"{where}: {name} is given twice in {spec!r}.")
        values[name] = value
    for index, argument in enumerate(arguments):
        if argument.name in values:
            place = f"{where}[{index + 1}]" if isinstance(argument, Specs) else where
            values[argument.name] = argument.check(values[argument.name], place, context)
        elif argument.required:
            raise ValueError(f"{where}: {written}; got {spec!r}.")
        else:
            values[argument.name] = argument.default_value(values, context)
    return values


def spec_tuple(cls, values):
    """The spec of ``values`` (a dict by argument name): trailing fixed defaults left out."""
    arguments = list(cls.arguments)
    while arguments and arguments[-1].is_default(values[arguments[-1].name]):
        arguments.pop()
    if cls.variadic and arguments and arguments[-1] is cls.arguments[-1]:
        *fixed, last = arguments
        return (cls.kind, *(values[a.name] for a in fixed), *values[last.name])
    return (cls.kind, *(values[a.name] for a in arguments))


def spec_values(cls, spec):
    """The values by argument name of a parsed spec of ``cls`` (undoes :func:`spec_tuple`)."""
    args = spec[1:]
    arguments = cls.arguments
    if cls.variadic:
        *fixed, last = arguments
        values = dict(zip((a.name for a in fixed), args))
        values[last.name] = tuple(args[len(fixed) :])
        return values
    values = dict(zip((a.name for a in arguments), args))
    for argument in arguments[len(args) :]:
        values[argument.name] = argument.default
    return values


def layer_names(kinds):
    """A name per layer: its kind and its count among the layers of that kind.

    >>> layer_names(["conv", "relu", "conv", "flatten", "dense"])
    ['conv1', 'relu1', 'conv2', 'flatten1', 'dense1']
    """
    counts, names = {}, []
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names


# --- from specs to layers -----------------------------------------------------------


def make_layers(specs, context, sources=None):
    """The layers of parsed ``specs``, not built; a flatten goes where one is needed.

    Every layer that needs flat inputs (``flat_input``) gets a flatten
    before it when its input is spatial (the first layer's input is flat
    where ``context.flat`` says so). Each layer keeps in ``source`` the
    argument that stated it (``sources``, for error messages; ``None`` for
    an added flatten).

    Returns
    -------
    layers : list of Layer
    flat : bool
        Whether the output of the last layer is flat.
    """
    sources = [None] * len(specs) if sources is None else sources
    layers, flat = [], context.flat
    for spec, source in zip(specs, sources):
        cls = layer_class(spec[0])
        if cls.flat_input and not flat:
            flatten = layer_class("flatten")()
            flatten.source = None
            layers.append(flatten)
            flat = True
        layer = cls.from_spec(spec_values(cls, spec), replace(context, flat=flat))
        layer.source = source
        layers.append(layer)
        flat = layer.output_flat(flat)
    return layers, flat


def kinds_table():
    """The reStructuredText table of every registered kind: how it is written, examples."""
    rows = []
    for kind in registered_kinds():
        cls = _KINDS[kind]
        if cls.internal:
            continue
        words = [kind, *cls.aliases]
        examples = ", ".join(
            f"``{e!r}``" if not isinstance(e, str) else f'``"{e}"``'
            for e in (cls.examples or (kind,))
        )
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        rows.append((f"``{usage(cls)}``", ", ".join(f"``{w}``" for w in words), examples, summary))
    header = ("spec", "words", "examples", "what it does")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.append(rule)
    return "\n".join(lines)
