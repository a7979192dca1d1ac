"""Single registry of the kinematic variables: Vicon names, units and direction words.

Everything that labels a curve (app plots, report figures, tables) takes its wording from
here, so that the sign conventions of Plug-in Gait (cgm1_spec section 11) are stated once.
Direction words are given as ``(positive, negative)``: a plot axis reads e.g.
``"Valg «  deg  » Var"`` (core.report.figures.direction_label).
"""
from __future__ import annotations

from dataclasses import dataclass

ANGLE_CHANNELS = ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles")
JOINT_CENTRES = ("HJC", "KJC", "AJC")


def output_names() -> tuple[str, ...]:
    """All CGM1 output point names written by ``genulab process``, in Vicon order."""
    names = [f"{s}{c}" for c in ANGLE_CHANNELS for s in ("L", "R")]
    names += [f"{s}{j}" for j in JOINT_CENTRES for s in ("L", "R")]
    return tuple(names)


@dataclass(frozen=True)
class Variable:
    """One plotted/tabulated kinematic variable (a channel component)."""

    key: str          # stable identifier, e.g. "KneeAngles.y"
    channel: str      # Vicon channel without side prefix, e.g. "KneeAngles"
    axis: int         # 0, 1, 2 = x, y, z component
    title: str        # clinical name, e.g. "Knee varus/valgus"
    plane: str        # "sagittal", "frontal", "transverse"
    unit: str         # "deg" or "mm"
    positive: str     # direction word of positive values, e.g. "Var"
    negative: str     # direction word of negative values, e.g. "Valg"

    def axis_label(self) -> str:
        """Axis label with direction words, e.g. ``'Knee varus/valgus (deg)  Var+ / Valg-'``."""
        return f"{self.title} ({self.unit})  {self.positive}+ / {self.negative}-"


_V = Variable
KINEMATIC_VARIABLES: tuple[Variable, ...] = (
    _V("PelvisAngles.x", "PelvisAngles", 0, "Pelvic tilt", "sagittal", "deg", "Ant", "Post"),
    _V("PelvisAngles.y", "PelvisAngles", 1, "Pelvic obliquity", "frontal", "deg", "Up", "Down"),
    _V("PelvisAngles.z", "PelvisAngles", 2, "Pelvic rotation", "transverse", "deg", "Int", "Ext"),
    _V("HipAngles.x", "HipAngles", 0, "Hip flexion", "sagittal", "deg", "Flex", "Ext"),
    _V("HipAngles.y", "HipAngles", 1, "Hip adduction", "frontal", "deg", "Add", "Abd"),
    _V("HipAngles.z", "HipAngles", 2, "Hip rotation", "transverse", "deg", "Int", "Ext"),
    _V("KneeAngles.x", "KneeAngles", 0, "Knee flexion", "sagittal", "deg", "Flex", "Ext"),
    _V("KneeAngles.y", "KneeAngles", 1, "Knee varus/valgus", "frontal", "deg", "Var", "Valg"),
    _V("KneeAngles.z", "KneeAngles", 2, "Knee rotation", "transverse", "deg", "Int", "Ext"),
    _V("AnkleAngles.x", "AnkleAngles", 0, "Ankle dorsiflexion", "sagittal", "deg", "Dors", "Plan"),
    _V("AnkleAngles.y", "AnkleAngles", 1, "Ankle inversion", "frontal", "deg", "Inv", "Ev"),
    _V("AnkleAngles.z", "AnkleAngles", 2, "Ankle rotation", "transverse", "deg", "Int", "Ext"),
    _V("FootProgressAngles.z", "FootProgressAngles", 2, "Foot progression", "transverse", "deg", "Int", "Ext"),
)

VARIABLES_BY_KEY = {v.key: v for v in KINEMATIC_VARIABLES}

# Valgus metrics (docs/valgus.md): positive = valgus / medial
VALGUS_METRICS: tuple[Variable, ...] = (
    _V("valgus_3d", "KneeAngles", 1, "3D knee valgus", "frontal", "deg", "Valg", "Var"),
    _V("fppa", "", 0, "Frontal plane projection angle", "frontal", "deg", "Valg", "Var"),
    _V("mkd", "", 0, "Medial knee displacement", "frontal", "mm", "Med", "Lat"),
)
VALGUS_METRICS_BY_KEY = {v.key: v for v in VALGUS_METRICS}

# The nine Gait Variable Scores of Baker et al. (2009), in MAP order.
GVS_VARIABLES = (
    "PelvisAngles.x", "PelvisAngles.y", "PelvisAngles.z",
    "HipAngles.x", "HipAngles.y", "HipAngles.z",
    "KneeAngles.x", "AnkleAngles.x", "FootProgressAngles.z",
)

# Plug-in Gait kinetics shown by the report and the app (display units: Vicon value x scale).
# Moments keep Vicon's signs: X + = internal extensor / plantarflexor moment; Y + = external
# adduction (varus) moment of the knee / hip (an internal abductor moment; checked on Vicon's
# walking outputs: +Y dominates stance), Y - = external abduction (valgus) moment. Power Z:
# + generation, - absorption.
KINETIC_VARIABLES: tuple[Variable, ...] = (
    _V("KneeMoment.y", "KneeMoment", 1, "Knee add/abd moment (ext.)", "frontal", "N.m/kg", "Add", "Abd"),
    _V("KneeMoment.x", "KneeMoment", 0, "Knee extensor moment", "sagittal", "N.m/kg", "Ext", "Flex"),
    _V("KneePower.z", "KneePower", 2, "Knee power", "sagittal", "W/kg", "Gen", "Abs"),
    _V("HipMoment.x", "HipMoment", 0, "Hip extensor moment", "sagittal", "N.m/kg", "Ext", "Flex"),
    _V("HipMoment.y", "HipMoment", 1, "Hip add/abd moment (ext.)", "frontal", "N.m/kg", "Add", "Abd"),
    _V("HipPower.z", "HipPower", 2, "Hip power", "sagittal", "W/kg", "Gen", "Abs"),
    _V("AnkleMoment.x", "AnkleMoment", 0, "Ankle plantarflexor moment", "sagittal", "N.m/kg", "Plan", "Dors"),
    _V("AnklePower.z", "AnklePower", 2, "Ankle power", "sagittal", "W/kg", "Gen", "Abs"),
)
KINETIC_VARIABLES_BY_KEY = {v.key: v for v in KINETIC_VARIABLES}
