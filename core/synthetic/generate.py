"""Generator API: a sample trial in memory (markers, prescribed truth) and on disk.

``generate_trial(spec)`` returns a :class:`SampleTrial` holding the exact marker positions
(float64), the markers as written (noise and gaps applied), the prescribed Plug-in Gait
angles and joint centres, and the truth document written beside the C3D file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np

import zlib

from core.synthetic.catalogue import TrialSpec
from core.synthetic.kinetics_truth import TrialKinetics, trial_kinetics
from core.synthetic.plates import ANALOG_RATE_HZ, PLATES
from core.synthetic.markers import MARKERS, marker_array, place_markers
from core.synthetic.skeleton import joint_centres, vicon_angles
from core.synthetic.subject import BODY, PATIENT, Anthropometry, Patient
from core.synthetic.tasks import RATE_HZ, Motion
from core.synthetic.valgus_truth import MIN_DURATION_S, true_phases
from core.synthetic.writer import AnalogBlock, processing_group, write_c3d, write_json

TRUTH_FORMAT = "genulab-sample-truth/1"


@dataclass(frozen=True)
class SampleTrial:
    """One generated trial.

    exact_markers / markers: ``(F, M, 3)`` mm in :data:`MARKERS` order, before and after
    noise and gaps (NaN in gaps). angles: Vicon channel -> ``(F, 3)`` deg; centres:
    ``LHJC``... -> ``(F, 3)`` mm; truth: the JSON document (plain Python types); kinetics:
    the force-plate channels and the kinetic truth (also ``truth["kinetics"]``).
    """

    spec: TrialSpec
    motion: Motion
    labels: tuple[str, ...]
    exact_markers: np.ndarray
    markers: np.ndarray
    angles: dict
    centres: dict
    truth: dict
    kinetics: TrialKinetics

    @property
    def name(self) -> str:
        return self.spec.name


def imperfect(exact: np.ndarray, spec: TrialSpec) -> np.ndarray:
    """Markers with the spec's Gaussian noise (seeded PCG64) and gaps (NaN)."""
    out = exact.copy()
    if spec.noise_mm > 0:
        rng = np.random.default_rng(spec.seed)
        out = out + rng.normal(0.0, spec.noise_mm, size=exact.shape)
    for label, first, n in spec.gaps:
        out[first - 1:first - 1 + n, MARKERS.index(label), :] = np.nan
    return out


def _events(motion: Motion) -> list[dict]:
    return [{"label": l, "context": c, "frame": f, "time_s": round((f - 1) / RATE_HZ, 6)}
            for l, c, f in motion.events]


def truth_document(spec: TrialSpec, motion: Motion, angles: dict, centres: dict,
                   body: Anthropometry, patient: Patient) -> dict:
    """The ``<trial>.truth.json`` content (documented in sample_c3d/README.md)."""
    ph = true_phases(motion, angles, centres, patient.sex, body.mean_leg_length_mm, RATE_HZ)
    prog = motion.pose.progression
    doc = {
        "format": TRUTH_FORMAT,
        "generator": {"command": "python -m core.synthetic.make_samples", "numpy": np.__version__},
        "trial": spec.name, "file": spec.name + ".c3d", "patient_id": patient.patient_id,
        "session": spec.session, "task": spec.task, "side": motion.side,
        "rate_hz": RATE_HZ, "first_frame": 1, "n_frames": motion.n_frames,
        "progression_matrix": prog.tolist(), "facing": motion.facing.tolist(),
        "imperfections": {"noise_sd_mm": spec.noise_mm, "noise_seed": spec.seed if spec.noise_mm else None,
                          "gaps": [{"marker": m, "first_frame": a, "last_frame": a + n - 1}
                                   for m, a, n in spec.gaps],
                          "events_in_file": spec.events_in_file},
        "subject": body.vsk_parameters(patient),
        "events": _events(motion),
        "windows": [{"side": w.side, "index": w.index, "kind": w.kind, "start_frame": w.start_frame,
                     "end_frame": w.end_frame, "cycle_end_frame": w.cycle_end_frame}
                    for w in motion.windows],
        "phase_definition": {"metric": ph.get("metric"), "threshold_source": ph.get("threshold_source"),
                             "min_duration_ms": 1000.0 * MIN_DURATION_S,
                             "rule": "frames inside the window with metric > threshold; runs of n frames last n/rate"},
        "phases": ph["phases"],
    }
    if motion.speed_m_s is not None:
        doc["speed_m_s"] = motion.speed_m_s
        doc.update(ph["info"])
    if motion.extras:
        doc["extras"] = dict(motion.extras)
    doc["angles"] = {k: v for k, v in angles.items()}
    doc["joint_centres"] = {k: v for k, v in centres.items()}
    doc["metrics"] = {s: {k: v for k, v in m.items()} for s, m in ph["metrics"].items()}
    if motion.task == "walk":
        doc["thresholds"] = {s: v for s, v in ph["thresholds"].items()}
    return doc


def analog_seed(spec: TrialSpec) -> int:
    """Seed of a trial's analog noise (numpy PCG64): CRC-32 of its name."""
    return zlib.crc32(spec.name.encode("ascii"))


def generate_trial(spec: TrialSpec, body: Anthropometry = BODY, patient: Patient = PATIENT) -> SampleTrial:
    """Build one trial in memory (deterministic)."""
    motion = spec.build(body)
    exact = marker_array(place_markers(motion.pose, body))
    angles = vicon_angles(motion.pose)
    centres = joint_centres(motion.pose)
    truth = truth_document(spec, motion, angles, centres, body, patient)
    kin = trial_kinetics(motion, body, patient.mass_kg, analog_seed(spec))
    truth["kinetics"] = kin.doc
    return SampleTrial(spec, motion, MARKERS, exact, imperfect(exact, spec), angles, centres, truth, kin)


def analog_block(kin: TrialKinetics) -> AnalogBlock:
    """What :func:`write_c3d` needs to write the plates of a trial."""
    plates = tuple({"type": p.plate_type, "corners": p.corners, "origin": p.origin,
                    "channels": list(range(6 * i + 1, 6 * i + 7)), "cal_matrix": p.cal_matrix}
                   for i, p in enumerate(PLATES))
    return AnalogBlock(kin.analog, kin.labels, kin.units, ANALOG_RATE_HZ, plates)


def genulab_group(spec: TrialSpec) -> dict[str, str]:
    """GENULAB parameters: TASK (valgus.md vocabulary), SIDE (Left/Right, or Both)."""
    return {"TASK": spec.task, "SIDE": spec.side or "Both"}


def write_trial(trial: SampleTrial, folder: Path, body: Anthropometry = BODY,
                patient: Patient = PATIENT) -> tuple[Path, Path]:
    """Write ``<trial>.c3d`` and ``<trial>.truth.json`` into ``folder``."""
    spec = trial.spec
    events = trial.motion.events if spec.events_in_file else ()
    c3d = write_c3d(folder / f"{spec.name}.c3d", trial.labels, trial.markers.astype(np.float32).astype(float),
                    RATE_HZ, events, processing_group(body.vsk_parameters(patient)),
                    genulab_group(spec), patient.patient_id, spec.task == "static",
                    analog_block(trial.kinetics))
    truth = write_json(folder / f"{spec.name}.truth.json", trial.truth)
    return c3d, truth
