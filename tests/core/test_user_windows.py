"""Task windows edited by the user replace the detected ones (issue 6, event editing).

On the sample pre session's right single-leg squat: narrowing a repetition's window clips
its valgus phase to the window at the exact frames, deleting a window removes its phase,
and invalid windows raise AnalysisError naming the trial.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.analysis.types import TaskWindow
from core.analysis.session import analyze_session
from core.analysis.trial import analyze_trial
from core.errors import AnalysisError
from tests.conftest import SAMPLES

PRE = SAMPLES / "GL-0001" / "pre"
NAME = "pre_sls_R_01"


@pytest.fixture(scope="module")
def session():
    if not (PRE / f"{NAME}.c3d").exists():
        pytest.skip("sample_c3d/GL-0001/pre is not available")
    from core.gait.pipeline import process_session
    return process_session(PRE)


@pytest.fixture(scope="module")
def sls(session):
    p = next(p for p in session.trials if p.trial.name == NAME)
    return p, analyze_trial(p)


def test_detected_windows_are_recorded_as_detected(sls):
    _, a = sls
    assert a.window_source == {"Right": "detected"}
    assert len(a.windows["Right"]) == 5 and len(a.phases_of("Right")) == 5
    assert not any("edited by the user" in n for n in a.notes)


def test_narrowed_window_clips_its_phase_to_the_exact_frames(sls):
    p, a = sls
    wins = list(a.windows["Right"])
    ph0 = next(ph for ph in a.phases if ph.window_index == 0)
    lo, hi = ph0.onset_frame + 10, ph0.offset_frame - 12          # strictly inside the detected phase
    wins[0] = TaskWindow("repetition", 0, "Right", lo, hi)
    e = analyze_trial(p, decision=a.decision, windows={"Right": wins})
    assert e.window_source == {"Right": "edited"}
    assert any("Right: task windows edited by the user" in n for n in e.notes)
    assert e.windows["Right"][0].start_frame == lo and e.windows["Right"][0].end_frame == hi
    assert lo <= e.windows["Right"][0].peak_frame <= hi                  # peak found inside the new window
    new0 = [ph for ph in e.phases if ph.window_index == 0]
    assert len(new0) == 1
    assert (new0[0].onset_frame, new0[0].offset_frame) == (lo, hi)
    assert (new0[0].window_start_frame, new0[0].window_end_frame) == (lo, hi)
    assert new0[0].duration_s == pytest.approx((hi - lo + 1) / e.rate_hz)
    # the other windows and their phases are unchanged
    for old, new in zip(a.phases[1:], e.phases[1:]):
        assert (old.onset_frame, old.offset_frame, old.peak_value) == (new.onset_frame, new.offset_frame, new.peak_value)
    assert e.window_peaks["Right"]["fppa"][0] <= a.window_peaks["Right"]["fppa"][0]


def test_deleted_window_loses_its_phase_and_windows_are_reindexed(sls):
    p, a = sls
    wins = [w for w in a.windows["Right"] if w.index != 2]
    e = analyze_trial(p, decision=a.decision, windows={"Right": list(reversed(wins))})
    assert [w.index for w in e.windows["Right"]] == [0, 1, 2, 3]
    assert [w.start_frame for w in e.windows["Right"]] == [w.start_frame for w in wins]
    gone = a.phases[2]
    assert all(ph.onset_frame != gone.onset_frame for ph in e.phases)
    assert len(e.phases) == 4
    assert e.window_peaks["Right"]["fppa"].shape == (4,)


def test_no_window_means_no_phase(sls):
    p, a = sls
    e = analyze_trial(p, decision=a.decision, windows={"Right": []})
    assert e.windows["Right"] == () and e.phases == () and e.window_source["Right"] == "edited"


@pytest.mark.parametrize("bad,words", [
    (lambda ws, ff, last: ws[:1] + [TaskWindow("repetition", 1, "Right", ws[0].end_frame, ws[0].end_frame + 40)],
     "overlap"),
    (lambda ws, ff, last: [TaskWindow("repetition", 0, "Right", ff - 5, ff + 40)], "outside the trial's frames"),
    (lambda ws, ff, last: [TaskWindow("repetition", 0, "Right", last - 10, last + 1)], "outside the trial's frames"),
])
def test_invalid_windows_raise_naming_the_trial(sls, bad, words):
    p, a = sls
    last = a.first_frame + a.n_frames - 1
    with pytest.raises(AnalysisError, match=NAME) as exc:
        analyze_trial(p, decision=a.decision, windows={"Right": bad(list(a.windows["Right"]), a.first_frame, last)})
    assert words in str(exc.value)


def test_window_of_a_side_the_task_does_not_analyse_raises(sls):
    p, a = sls
    w = replace(a.windows["Right"][0], side="Left")
    with pytest.raises(AnalysisError, match=f"{NAME}.*Left side"):
        analyze_trial(p, decision=a.decision, windows={"Left": [w]})


def test_window_ending_before_it_starts_raises():
    with pytest.raises(AnalysisError, match="ends"):
        TaskWindow("repetition", 0, "Right", 300, 200)


def test_session_passes_windows_to_the_named_trial(session, sls):
    _, a = sls
    wins = list(a.windows["Right"][:2])
    sa = analyze_session(session, windows={NAME: {"Right": wins}})
    t = sa.trial(NAME)
    assert t.window_source == {"Right": "edited"} and len(t.windows["Right"]) == 2 and len(t.phases) == 2
    assert sa.trial("pre_sls_L_01").window_source == {"Left": "detected"}
    assert sa.task_summary("sls", "Right").n_windows == 2
    with pytest.raises(AnalysisError, match="no_such_trial"):
        analyze_session(session, windows={"no_such_trial": {"Right": wins}})


def test_user_windows_survive_the_store_serialiser(sls):
    """TrialRecord.windows / window_source / window_edits and the analysis' window_source
    are saved and read back by the store's generic serialiser."""
    from core.store.schema import TrialInfo, TrialRecord, WindowEdit
    from core.store.serialize import decode, encode
    p, a = sls
    wins = a.windows["Right"][:3]
    e = analyze_trial(p, decision=a.decision, windows={"Right": wins})
    rec = TrialRecord(TrialInfo("T001", NAME), p.trial, analysis=e, windows={"Right": e.windows["Right"]},
                      window_source={"Right": "edited"},
                      window_edits=(WindowEdit("delete", "Right", a.windows["Right"][4]),))
    back = decode(encode(rec, NAME), NAME)
    assert back.window_source == {"Right": "edited"} and back.windows["Right"] == e.windows["Right"]
    assert back.window_edits[0].action == "delete" and back.window_edits[0].before == a.windows["Right"][4]
    assert back.analysis.window_source == {"Right": "edited"}
    assert [ph.onset_frame for ph in back.analysis.phases] == [ph.onset_frame for ph in e.phases]
    old = TrialRecord(TrialInfo("T002", NAME), p.trial)          # a record without window edits
    assert decode(encode(old, NAME), NAME).windows == {}
