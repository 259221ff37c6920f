"""The words of production and what each means in the captioner's labels.

Every table is keyed by a *normalised* word sequence: lower case, one space between words, a
hyphen between letters read as a space ("push-in" is "push in", "close-up" "close up"), symbols
their own words ("m/s" is "m / s"). Values are the captioner's own classes
(:class:`~engines.captioner.shot_size.ShotSize`, :class:`~engines.captioner.movement.MovementClass`),
never a copy of them; ``docs/studio-sync/vocabulary.md`` lists every word.

**Paces.** The movement label's speed is in the class's own unit (m/s for dolly, truck and
pedestal; deg/s for pan, tilt and roll; %/s of the focal length for zoom). A pace word means the
same thing in every unit because it is set on the scale the movement classifier ranks motions
by, the image's angular rate (``engines/captioner/movement.py``): a rotation is its own rate, a
translation at ``v`` m/s is ``v / NOMINAL_SUBJECT_DISTANCE_M`` rad/s, a zoom at ``z`` %/s is
``z / 100`` rad/s. On that scale

- *slow* runs from the class's own static threshold (below it the label is ``static``: 0.05 m/s,
  1.5 deg/s, 1 %/s) up to :data:`SLOW_BELOW_DEG_PER_S`, 4 x the rotation threshold (6 deg/s:
  a picture 39 deg wide, a 35 mm lens on Super 35, takes 6.5 s or more to move by its width);
- *moderate* from there to :data:`FAST_FROM_DEG_PER_S`, 12 x the rotation threshold (18 deg/s:
  2.2 s for the same width);
- *fast* from there up.

In units: slow 0.05-0.314 m/s, 1.5-6 deg/s, 1-10.5 %/s; moderate to 0.942 m/s, 18 deg/s,
31.4 %/s; fast beyond. The simulated stage's shot plans agree (``sensors/sim/shots.py``: its
"slow Dutch roll" of 5 deg/s and "slow zoom" of 10 %/s are slow, its walking-pace dolly of
0.5 m/s and steady 15 deg/s pan moderate). Bounds are inclusive: a speed on one is both paces.

**Tolerances.** A single focal length is :data:`FOCAL_TOLERANCE` either side (75 mm:
73.1-76.9 mm): a zoom's calibration and a crew's rounding to the nearest marked focal length
(a 75 read as 74), while the focal sweep's neighbours (50, 75, 100 mm) stay apart. A single
distance is :data:`DISTANCE_TOLERANCE` either side (3 m: 2.7-3.3 m): the subject is a body a
third of a metre deep, and walks. A single speed is :data:`SPEED_TOLERANCE` either side.
"""

from __future__ import annotations

import enum
import math
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Iterable, Mapping, NamedTuple, Tuple

from engines.captioner.lens import ZOOM_THRESHOLD_PCT_PER_S
from engines.captioner.movement import (
    STATIC_ROTATION_DEG_PER_S,
    STATIC_TRANSLATION_M_PER_S,
    UNIT_DEG_PER_S,
    UNIT_M_PER_S,
    UNIT_PCT_PER_S,
    MovementClass,
    translation_equivalent_deg_per_s,
    zoom_equivalent_deg_per_s,
)
from engines.captioner.shot_size import ShotSize
from studio_sync.vocabulary.query import SPEED_UNITS, Range, SpeedRange

__all__ = [
    "Pace",
    "SLOW_BELOW_DEG_PER_S",
    "FAST_FROM_DEG_PER_S",
    "MOVING_FROM",
    "PACE_RANGES",
    "FOCAL_TOLERANCE",
    "DISTANCE_TOLERANCE",
    "SPEED_TOLERANCE",
    "FOCAL_LIMITS_MM",
    "DISTANCE_LIMIT_M",
    "SPEED_LIMITS",
    "MAX_PHRASE_CHARS",
    "FOCAL",
    "DISTANCE",
    "SPEED",
    "SHOT_SIZE_NAMES",
    "SHOT_SIZE_WORDS",
    "MOVEMENT_WORDS",
    "PACE_WORDS",
    "LENS_WORDS",
    "EQUIVALENT_WORDS",
    "NO_LIGHTING",
    "LIGHTING_WORDS",
    "NOT_LABELLED",
    "Comparator",
    "COMPARATORS",
    "Unit",
    "UNITS",
    "FILLER_WORDS",
    "SEPARATORS",
    "CATEGORIES",
    "Entry",
    "ENTRIES",
    "MAX_ENTRY_WORDS",
]

# ----------------------------------------------------------------------------- paces


class Pace(str, enum.Enum):
    """How fast a camera moves, in words (module docstring)."""

    SLOW = "slow"
    MODERATE = "moderate"
    FAST = "fast"


#: Image angular rate below which a move is slow, deg/s: 4 x the rotation's static threshold.
SLOW_BELOW_DEG_PER_S = 4.0 * STATIC_ROTATION_DEG_PER_S
#: Image angular rate from which a move is fast, deg/s: 12 x the rotation's static threshold.
FAST_FROM_DEG_PER_S = 12.0 * STATIC_ROTATION_DEG_PER_S

#: The image angular rate (deg/s) of one unit of speed, per speed unit: the classifier's own
#: conversions (a translation at the nominal subject distance, a zoom by the dolly it matches).
_DEG_PER_S_PER_UNIT: Mapping[str, float] = MappingProxyType({
    UNIT_M_PER_S: translation_equivalent_deg_per_s(1.0),
    UNIT_DEG_PER_S: 1.0,
    UNIT_PCT_PER_S: zoom_equivalent_deg_per_s(1.0),
})
#: Per speed unit, the speed from which the classifier calls a camera moving (its thresholds).
MOVING_FROM: Mapping[str, float] = MappingProxyType({
    UNIT_M_PER_S: STATIC_TRANSLATION_M_PER_S,
    UNIT_DEG_PER_S: STATIC_ROTATION_DEG_PER_S,
    UNIT_PCT_PER_S: ZOOM_THRESHOLD_PCT_PER_S,
})


def _pace_ranges() -> Mapping[Pace, SpeedRange]:
    bounds = {
        Pace.SLOW: (None, SLOW_BELOW_DEG_PER_S),
        Pace.MODERATE: (SLOW_BELOW_DEG_PER_S, FAST_FROM_DEG_PER_S),
        Pace.FAST: (FAST_FROM_DEG_PER_S, math.inf),
    }
    out = {}
    for pace, (low_deg, high_deg) in bounds.items():
        ranges = {}
        for unit in SPEED_UNITS:
            per = _DEG_PER_S_PER_UNIT[unit]
            low = MOVING_FROM[unit] if low_deg is None else low_deg / per
            ranges[unit] = Range(low, high_deg / per)
        out[pace] = SpeedRange.of(ranges)
    return MappingProxyType(out)


#: The speeds each pace covers, per unit of the movement label (module docstring).
PACE_RANGES: Mapping[Pace, SpeedRange] = _pace_ranges()

# ----------------------------------------------------------------------------- numbers

#: A single focal length is read as this fraction either side of it.
FOCAL_TOLERANCE = 0.025
#: A single subject distance is read as this fraction either side of it.
DISTANCE_TOLERANCE = 0.10
#: A single speed is read as this fraction either side of it.
SPEED_TOLERANCE = 0.10
#: Focal lengths a phrase may name, mm (the rig's shot plans' own limits: over 1 mm, up to 1000 mm).
FOCAL_LIMITS_MM = (1.0, 1000.0)
#: Farthest subject distance a phrase may name, m: past the reach of the LiDARs a rig carries
#: (a VLP-16 reaches 100 m, a VLP-32C 200 m).
DISTANCE_LIMIT_M = 200.0
#: Fastest speed a phrase may name, per unit: past any camera move a rig makes.
SPEED_LIMITS: Mapping[str, float] = MappingProxyType({UNIT_M_PER_S: 20.0, UNIT_DEG_PER_S: 1000.0,
                                                      UNIT_PCT_PER_S: 1000.0})
#: Longest phrase read, characters.
MAX_PHRASE_CHARS = 500

#: The quantities a number with a unit measures.
FOCAL, DISTANCE, SPEED = "focal length", "distance", "speed"

# ----------------------------------------------------------------------------- shot sizes

#: Each shot size's name, as a camera department says it.
SHOT_SIZE_NAMES: Mapping[ShotSize, str] = MappingProxyType({
    ShotSize.ECU: "extreme close-up",
    ShotSize.CU: "close-up",
    ShotSize.MCU: "medium close-up",
    ShotSize.MS: "medium shot",
    ShotSize.MLS: "medium long shot",
    ShotSize.FS: "full shot",
    ShotSize.WS: "wide shot",
    ShotSize.NONE: "no subject in frame",
})

_S = ShotSize
#: Words for each shot size (``engines/captioner/shot_size.py`` bounds them by where the frame's
#: lower edge cuts the body). ``none``: the labels found nobody in frame.
SHOT_SIZE_WORDS: Mapping[str, ShotSize] = MappingProxyType({
    **dict.fromkeys(("ecu", "xcu", "bcu", "extreme close up", "extreme closeup", "extreme cu", "big close up"), _S.ECU),
    **dict.fromkeys(("cu", "close up", "closeup", "close shot", "tight", "tight shot"), _S.CU),
    **dict.fromkeys(("mcu", "medium close up", "medium closeup", "mid close up", "medium cu"), _S.MCU),
    **dict.fromkeys(("ms", "medium shot", "medium", "mid shot", "mid", "waist shot"), _S.MS),
    **dict.fromkeys(("mls", "medium long shot", "medium long", "medium wide", "medium wide shot", "mws",
                     "cowboy", "cowboy shot", "american shot", "knee shot"), _S.MLS),
    **dict.fromkeys(("fs", "full shot", "full", "full length", "full body", "full figure", "long shot", "ls"), _S.FS),
    **dict.fromkeys(("ws", "wide", "wide shot", "establishing", "establishing shot", "extreme wide",
                     "extreme wide shot", "ews", "els", "extreme long shot", "very wide"), _S.WS),
    **dict.fromkeys(("no subject", "empty frame", "empty", "empty set", "plate", "clean plate", "background plate",
                     "nobody", "no one", "no actor", "no actors"), _S.NONE),
})
del _S

# ----------------------------------------------------------------------------- movements

_LEFT_RIGHT = {"left": "_LEFT", "right": "_RIGHT"}
_UP_DOWN = {"up": "_UP", "down": "_DOWN"}


def _directed(verbs: Iterable[str], stem: str, directions: Mapping[str, str]) -> Dict[str, FrozenSet[MovementClass]]:
    """``verb direction`` -> the one class, and the bare verb -> every direction's class."""
    out: Dict[str, FrozenSet[MovementClass]] = {}
    for verb in verbs:
        classes = []
        for word, suffix in directions.items():
            kind = MovementClass[stem + suffix]
            out[f"{verb} {word}"] = frozenset({kind})
            classes.append(kind)
        out[verb] = frozenset(classes)
    return out


def _movement_words() -> Mapping[str, FrozenSet[MovementClass]]:
    words: Dict[str, FrozenSet[MovementClass]] = {}
    words.update(_directed(("pan",), "PAN", _LEFT_RIGHT))
    words.update(_directed(("tilt",), "TILT", _UP_DOWN))
    words.update(_directed(("truck", "crab"), "TRUCK", _LEFT_RIGHT))
    words.update(_directed(("pedestal", "ped", "crane", "boom", "jib"), "PEDESTAL", _UP_DOWN))
    words.update(_directed(("zoom",), "ZOOM", {"in": "_IN", "out": "_OUT"}))
    words.update(_directed(("dolly",), "DOLLY", {"in": "_IN", "out": "_OUT"}))
    ins = ("push", "push in", "dolly forward", "track in", "move in", "creep in")
    outs = ("pull", "pull out", "pull back", "pullback", "dolly back", "track out", "track back", "move out")
    words.update(dict.fromkeys(ins, frozenset({MovementClass.DOLLY_IN})))
    words.update(dict.fromkeys(outs, frozenset({MovementClass.DOLLY_OUT})))
    words.update({"track left": frozenset({MovementClass.TRUCK_LEFT}),
                  "track right": frozenset({MovementClass.TRUCK_RIGHT})})
    words.update(dict.fromkeys(("roll", "rolling", "dutch roll"), frozenset({MovementClass.ROLL})))
    words.update(dict.fromkeys(("static", "locked off", "lock off", "locked", "still", "fixed", "tripod",
                                "sticks", "no movement", "no camera movement"), frozenset({MovementClass.STATIC})))
    words.update(dict.fromkeys(("handheld", "hand held", "shoulder", "on the shoulder", "shoulder mounted"),
                               frozenset({MovementClass.HANDHELD})))
    words.update(dict.fromkeys(("unknown movement", "movement unknown", "missing movement", "movement missing",
                                "unlabelled movement"), frozenset({MovementClass.MISSING})))
    # A verb's other forms ("pans left", "pushing in") mean what it does.
    forms = {"pan": ("pans", "panning"), "tilt": ("tilts", "tilting"), "truck": ("trucks", "trucking"),
             "crab": ("crabs", "crabbing"), "crane": ("cranes", "craning"), "boom": ("booms", "booming"),
             "zoom": ("zooms", "zooming"), "dolly": ("dollies", "dollying"), "push": ("pushes", "pushing"),
             "pull": ("pulls", "pulling"), "track": ("tracks", "tracking"), "move": ("moves", "moving")}
    for key, classes in list(words.items()):
        head, _, rest = key.partition(" ")
        for form in forms.get(head, ()):
            words.setdefault(f"{form} {rest}".strip(), classes)
    return MappingProxyType(words)


#: Words for each camera movement (``engines/captioner/movement.py``): a direction names one class,
#: a bare verb every direction ("pan": pan left or right). Crane, boom and jib are the pedestal's
#: vertical move; push and pull the dolly's; track left/right the truck's.
MOVEMENT_WORDS: Mapping[str, FrozenSet[MovementClass]] = _movement_words()

#: Pace words (module docstring): one pace for the whole phrase.
PACE_WORDS: Mapping[str, Pace] = MappingProxyType({
    **dict.fromkeys(("slow", "slowly", "gentle", "gently", "gradual", "gradually", "creeping"), Pace.SLOW),
    **dict.fromkeys(("moderate", "moderately", "steady", "steadily", "medium speed", "medium pace",
                     "walking pace"), Pace.MODERATE),
    **dict.fromkeys(("fast", "quick", "quickly", "rapid", "rapidly", "swift", "whip", "snap"), Pace.FAST),
})

# ----------------------------------------------------------------------------- lenses

#: Lens words, as ranges of the **35 mm-equivalent** focal length (mm): the angle of view, which
#: is what "wide" and "long" mean whatever the sensor.
LENS_WORDS: Mapping[str, Range] = MappingProxyType({
    **dict.fromkeys(("ultra wide lens", "ultra wide", "ultrawide", "fisheye"), Range(0.0, 24.0)),
    **dict.fromkeys(("wide lens", "wide angle", "wide angle lens", "short lens"), Range(0.0, 35.0)),
    **dict.fromkeys(("normal lens", "standard lens"), Range(40.0, 60.0)),
    **dict.fromkeys(("long lens", "telephoto", "telephoto lens", "tele"), Range(85.0, math.inf)),
})

#: Words after a focal length that make it the 35 mm (full-frame) equivalent: "75mm equivalent",
#: "50mm full-frame equivalent"; the parser also reads "75mm (35mm equivalent)".
EQUIVALENT_WORDS: FrozenSet[str] = frozenset({
    "equivalent", "equiv", "eq", "ff", "ff equivalent", "full frame", "full frame equivalent", "on full frame",
})

# ----------------------------------------------------------------------------- words without labels

#: The answer to a lighting word.
NO_LIGHTING = ("no lighting labels are recorded yet: the captioner labels shot size, focal length, "
               "camera movement and subject distance")
#: Lighting words: recognised, and answered with :data:`NO_LIGHTING`.
LIGHTING_WORDS: FrozenSet[str] = frozenset({
    "lighting", "light", "lit", "low key", "high key", "backlit", "backlight", "back light", "backlighting",
    "silhouette", "silhouetted", "rim light", "rim lit", "key light", "fill light", "hard light", "soft light",
    "available light", "natural light", "practical", "practicals", "night", "night time", "day", "daytime",
    "daylight", "day for night", "golden hour", "magic hour", "blue hour", "dusk", "dawn", "sunset", "sunrise",
    "tungsten", "moody", "dark", "bright", "chiaroscuro", "neon", "candlelight", "firelight", "overcast",
    "high contrast", "low contrast",
})
_PEOPLE = "no label counts or places the people in frame: the subject is the one person nearest the frame's centre"
_ANGLE = "no label records the camera's angle: the movement label says how the camera moves, not where it points"
_FOCUS = "no focus label is recorded: a focus pull labels as a static camera"
_RIG = "no label records what the camera is mounted on: the movement label says how it moves"
#: Production words no recorded label answers -> why (lighting words among them).
NOT_LABELLED: Mapping[str, str] = MappingProxyType({
    **dict.fromkeys(sorted(LIGHTING_WORDS), NO_LIGHTING),
    **dict.fromkeys(("two shot", "three shot", "group shot", "single", "ots", "over the shoulder",
                     "pov", "point of view", "crowd"), _PEOPLE),
    **dict.fromkeys(("dutch", "dutch angle", "dutch tilt", "canted", "high angle", "low angle", "birds eye",
                     "bird's eye", "overhead", "eye level", "top shot"), _ANGLE),
    **dict.fromkeys(("rack focus", "focus pull", "pull focus", "shallow focus", "deep focus", "bokeh",
                     "soft focus", "out of focus"), _FOCUS),
    **dict.fromkeys(("steadicam", "gimbal", "drone", "aerial"), _RIG),
})

# ----------------------------------------------------------------------------- numbers' words


class Comparator(NamedTuple):
    """A word before a number: ``bound`` ``at_most``, ``at_least`` or ``between`` (two numbers
    follow, joined by "and" or "to"), said of the quantities in ``domains``."""

    bound: str
    domains: FrozenSet[str]


_ALL = frozenset({FOCAL, DISTANCE, SPEED})
_F, _D, _V = frozenset({FOCAL}), frozenset({DISTANCE}), frozenset({SPEED})
#: Comparators (bounds are inclusive: "under 3 m" is up to and with 3 m).
COMPARATORS: Mapping[str, Comparator] = MappingProxyType({
    **dict.fromkeys(("under", "below", "less than", "up to", "at most", "no more than"), Comparator("at_most", _ALL)),
    **dict.fromkeys(("over", "above", "more than", "at least", "no less than"), Comparator("at_least", _ALL)),
    **dict.fromkeys(("within", "closer than", "nearer than", "inside"), Comparator("at_most", _D)),
    **dict.fromkeys(("beyond", "past", "farther than", "further than", "outside"), Comparator("at_least", _D)),
    **dict.fromkeys(("shorter than", "wider than"), Comparator("at_most", _F)),
    **dict.fromkeys(("longer than", "tighter than"), Comparator("at_least", _F)),
    "slower than": Comparator("at_most", _V),
    "faster than": Comparator("at_least", _V),
    **dict.fromkeys(("between", "from"), Comparator("between", _ALL)),
})
del _F, _D, _V


class Unit(NamedTuple):
    """A unit after a number: the quantity it measures, the factor to the label's unit, that unit."""

    domain: str
    factor: float
    unit: str


_MM, _METRE = Unit(FOCAL, 1.0, "mm"), Unit(DISTANCE, 1.0, "m")
#: Units (feet are international feet, 0.3048 m).
UNITS: Mapping[str, Unit] = MappingProxyType({
    **dict.fromkeys(("mm", "millimetre", "millimetres", "millimeter", "millimeters"), _MM),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), _METRE),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"), Unit(DISTANCE, 0.01, "m")),
    **dict.fromkeys(("ft", "foot", "feet"), Unit(DISTANCE, 0.3048, "m")),
    **dict.fromkeys(("m / s", "metres per second", "meters per second", "m per s"), Unit(SPEED, 1.0, UNIT_M_PER_S)),
    **dict.fromkeys(("deg / s", "° / s", "degrees per second", "deg per s", "degrees a second"),
                    Unit(SPEED, 1.0, UNIT_DEG_PER_S)),
    **dict.fromkeys(("% / s", "percent per second", "% per second"), Unit(SPEED, 1.0, UNIT_PCT_PER_S)),
})
del _MM, _METRE

#: Words that say nothing a label answers but keep a phrase natural ("on a 75mm lens", "3 m away").
FILLER_WORDS: FrozenSet[str] = frozenset({
    "a", "an", "the", "shot", "shots", "take", "takes", "on", "at", "of", "lens", "camera", "subject",
    "subject's", "actor", "distance", "away", "from camera", "from the camera", "framing", "all", "any",
    "about", "around", "approximately", "roughly", "some",
})
#: What separates the terms of a phrase ("and" within "between 2 and 4 m" does not).
SEPARATORS: FrozenSet[str] = frozenset({",", ";", "&", "+", "and", "with", "plus"})

#: What the vocabulary reads, for the message of a word it does not know.
CATEGORIES: Tuple[str, ...] = (
    "shot sizes (" + ", ".join(s.value for s in ShotSize if s is not ShotSize.NONE)
    + ", close-up, cowboy, establishing, 'no subject', ...)",
    "movements (static, pan left/right, tilt up/down, roll, push in, pull out, truck left/right, crane up/down, "
    "zoom in/out, handheld)",
    "paces (slow, moderate, fast)",
    "lens words (wide lens, normal lens, long lens)",
    'focal lengths ("75mm", "50-85mm", "longer than 85mm", "50mm full-frame equivalent")',
    'distances ("subject under 3 m", "2 to 4 metres", "beyond 5m", "10 ft")',
    'speeds ("0.3 m/s", "10 deg/s", "5 %/s")',
)

# ----------------------------------------------------------------------------- one index


class Entry(NamedTuple):
    """What a word sequence is: ``kind`` (``size``, ``movement``, ``pace``, ``lens``,
    ``equivalent``, ``not labelled``, ``comparator``, ``unit``, ``filler``) and its value."""

    kind: str
    value: Any


def _index() -> Mapping[str, Entry]:
    tables = (
        ("size", SHOT_SIZE_WORDS), ("movement", MOVEMENT_WORDS), ("pace", PACE_WORDS), ("lens", LENS_WORDS),
        ("equivalent", dict.fromkeys(EQUIVALENT_WORDS, True)), ("not labelled", NOT_LABELLED),
        ("comparator", COMPARATORS), ("unit", UNITS), ("filler", dict.fromkeys(FILLER_WORDS, True)),
    )
    index: Dict[str, Entry] = {}
    for kind, table in tables:
        for key, value in table.items():
            if key in index:
                raise ValueError(f"{key!r} is both a {index[key].kind} and a {kind} word")
            index[key] = Entry(kind, value)
    return MappingProxyType(index)


#: Every word sequence the vocabulary reads -> what it is (each in exactly one table).
ENTRIES: Mapping[str, Entry] = _index()
#: The most words one entry has.
MAX_ENTRY_WORDS = max(len(key.split()) for key in ENTRIES)
