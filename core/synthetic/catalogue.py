"""What the sample sessions contain: one fictional patient, sessions ``pre`` and ``post``.

Pre: pronounced right dynamic knee valgus with the top-down pattern (hip adduction and
internal rotation, contralateral pelvic drop), peaking in mid-stance and at squat depth /
peak landing flexion; left side normal. Post (six weeks of hip strengthening): the same
pattern, clearly smaller. Imperfections (noise, gaps, missing events) are spread so that
every task has at least one noise-free trial in each session (see sample_c3d/README.md).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Callable, Mapping, Optional

from core.synthetic import margins, tasks
from core.synthetic.subject import PATIENT, Anthropometry
from core.synthetic.tasks import NONE, Deviation, Motion

SESSIONS = ("pre", "post")
SESSION_INFO = {
    "pre": {"date": "2026-09-07", "label": "pre", "condition": "barefoot",
            "notes": "Before the intervention: right anterior knee pain on stairs and squatting."},
    "post": {"date": "2026-10-19", "label": "post", "condition": "barefoot",
             "notes": "After six weeks of hip-strengthening exercise (abductors, external rotators)."},
}

#: right-side deviations per session and task (degrees at their peak)
RIGHT = {
    "pre": {"walk": Deviation(knee_valgus=12.0, hip_add=8.0, hip_rot=14.0, pelvic_drop=5.0),
            "sls": Deviation(knee_valgus=3.3, hip_add=6.6, hip_rot=6.6, pelvic_drop=3.85),
            "drop_jump": Deviation(knee_valgus=3.6, hip_add=6.0, hip_rot=6.0, pelvic_drop=2.4)},
    "post": {"walk": Deviation(knee_valgus=3.6, hip_add=2.4, hip_rot=4.2, pelvic_drop=1.5),
             "sls": Deviation(knee_valgus=0.9, hip_add=1.8, hip_rot=1.8, pelvic_drop=1.05),
             "drop_jump": Deviation(knee_valgus=0.9, hip_add=1.5, hip_rot=1.5, pelvic_drop=0.6)},
}
#: left side: normal in both sessions (a tiny deviation in the squat, far below any threshold)
LEFT = {"walk": NONE, "sls": Deviation(0.3, 0.6, 0.6, 0.4), "drop_jump": NONE}


def deviation(session: str, task: str, side: str) -> Deviation:
    """Prescribed deviation of one side in one session and task."""
    return LEFT[task] if side == "Left" else RIGHT[session][task]


@dataclass(frozen=True)
class TrialSpec:
    """One sample trial.

    gaps: ``(marker, first_frame, n_frames)``; noise_mm: SD of the Gaussian marker noise per
    coordinate (0 = exact); seed: of the noise generator (numpy PCG64).
    """

    session: str
    task: str
    number: int
    build: Callable[[Anthropometry], Motion]
    side: Optional[str] = None
    noise_mm: float = 0.0
    gaps: tuple[tuple[str, int, int], ...] = ()
    events_in_file: bool = False
    seed: int = 0

    @property
    def name(self) -> str:
        side = f"_{self.side[0]}" if self.side else ""
        return f"{self.session}_{self.task}{side}_{self.number:02d}"


def _design(motion: Motion, dev: Mapping[str, Deviation], scale) -> Motion:
    """The motion with its prescribed deviations and window factors recorded in ``extras``."""
    extras = dict(motion.extras)
    extras["deviation_deg"] = {s: asdict(d) for s, d in dev.items()}
    extras["deviation_window_factors"] = scale
    return replace(motion, extras=extras)


def _walk(session, direction, n, phase, place):
    dev = {s: deviation(session, "walk", s) for s in ("Left", "Right")}

    def build(body):
        scale = margins.walk_scale(body, direction, n, phase, dev)
        motion = tasks.walk(body, direction, n, phase, dev, place, scale=scale)
        return _design(motion, dev, [{"side": s, "cycle": int(c), "factor": k} for (s, c), k in scale.items()])
    return build


def _sls(session, side):
    dev = deviation(session, "sls", side)
    kw = {"place": (300.0, 0.0)}

    def build(body):
        scale = margins.sls_scale(body, side, dev, PATIENT.sex, **kw)
        return _design(tasks.sls(body, side, dev, scale=scale, **kw), {side: dev}, list(scale))
    return build


def _drop(session):
    dev = {s: deviation(session, "drop_jump", s) for s in ("Left", "Right")}
    kw = {"place": (-400.0, 0.0)}

    def build(body):
        m = margins.drop_scale(body, dev, PATIENT.sex, **kw)
        motion = tasks.drop_landing(body, {s: d.scaled(m) for s, d in dev.items()}, **kw)
        return _design(motion, dev, [m])
    return build


def session_trials(session: str) -> tuple[TrialSpec, ...]:
    """The trials of one session, in file-name order."""
    pre = session == "pre"
    base = 100 if pre else 200
    static_dir = "+X" if pre else "+Y"
    return (
        TrialSpec(session, "static", 1, lambda body: tasks.static(body, static_dir)),
        TrialSpec(session, "walk", 1, _walk(session, "+X", 400, 30, (0.0, 0.0)), events_in_file=True),
        TrialSpec(session, "walk", 2, _walk(session, "-X", 380, 77, (0.0, 0.0)), noise_mm=0.5,
                  gaps=(("RTHI", 150, 4), ("LTOE", 262, 6)), events_in_file=not pre, seed=base + 2),
        TrialSpec(session, "walk", 3, _walk(session, "+Y", 410, 12, (700.0, 60.0)), noise_mm=0.5,
                  gaps=((("RHEE" if pre else "LHEE"), 120, 90), ("LKNE", 201, 3)),
                  events_in_file=pre, seed=base + 3),
        TrialSpec(session, "sls", 1, _sls(session, "Left"), side="Left",
                  noise_mm=0.5 if pre else 0.0, gaps=(("RTOE", 300, 5),) if pre else (),
                  seed=base + 4),
        TrialSpec(session, "sls", 1, _sls(session, "Right"), side="Right",
                  noise_mm=0.0 if pre else 0.5, gaps=() if pre else (("RKNE", 640, 4),),
                  seed=base + 5),
        TrialSpec(session, "drop_jump", 1, _drop(session), noise_mm=0.0 if pre else 0.5,
                  events_in_file=pre, seed=base + 6),
    )


def all_trials() -> tuple[TrialSpec, ...]:
    return tuple(t for s in SESSIONS for t in session_trials(s))
