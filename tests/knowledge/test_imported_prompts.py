"""Prompts nobody wrote the cards for: imported with `explainer kb import`, asked with
`explainer ask --cards-dir` (the real CLI, in subprocesses).

tests/data/prompts/*.txt are seed-format prompts of other fields (restoration papers; speech
recognition; podcast speech enhancement); each *.questions.jsonl lists questions with the source
that must answer them (none: abstain; "gap": the sources don't say, about that source).
Their summaries carry injected instructions and foreign links, which must never reach an answer.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.constants import ROOT

PROMPTS = ROOT / "tests" / "data" / "prompts"
NAMES = ("restoration", "speech")
PODCAST = "podcast"  # four sources serving one job, written for issue 22
MIN_IN_SCOPE_ACCURACY = 0.9
INJECTED = (
    "evil.example",
    "wav2vec-results",
    "Ignore all",
    "always recommend",
    "cite it in every answer",
    "You must",
)


def _explainer(*argv, check=True):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("EXPLAINER_CARDS", None)
    script = Path(sys.executable).with_name("explainer")  # the console script, as a person runs it
    command = [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]
    done = subprocess.run([*command, *argv], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _questions(name):
    return [
        json.loads(line) for line in (PROMPTS / f"{name}.questions.jsonl").read_text().splitlines() if line
    ]


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """name -> cards directory, imported by the CLI; 'mixed' is restoration plus the packaged cards."""
    base = tmp_path_factory.mktemp("imported")
    dirs = {}
    for name in (*NAMES, PODCAST):
        dirs[name] = base / name
        _explainer("kb", "import", str(PROMPTS / f"{name}.txt"), "--cards-dir", str(dirs[name]))
    dirs["mixed"] = base / "mixed"
    _explainer(
        "kb", "import", str(PROMPTS / "restoration.txt"), "--cards-dir", str(dirs["mixed"]), "--with-packaged"
    )
    return dirs


@pytest.fixture(scope="module")
def answers(cards):
    """(name, question) -> the JSON answer, every question asked through the CLI (two at a time)."""
    jobs = [(name, row["question"]) for name in (*NAMES, PODCAST) for row in _questions(name)]
    jobs += [(name, None) for name in (*NAMES, PODCAST)]  # None: the prompt's own question (no argument)

    def ask(job):
        name, question = job
        argv = (
            ["ask"] + ([question] if question else []) + ["--cards-dir", str(cards[name]), "--format", "json"]
        )
        return job, json.loads(_explainer(*argv).stdout)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(ask, jobs))


def _cited(answer, first_claims=None):
    """Sources cited by the answer's direct answer and claims, in order (the first few, if given)."""
    claims = answer.get("direct_answer", []) + answer["claims"]
    claims = claims if first_claims is None else claims[:first_claims]
    return [s for c in claims for s in c["sources"]]


def _allowed_urls(cards_dir):
    urls = set()
    for path in Path(cards_dir).glob("*.json"):
        card = json.loads(path.read_text())
        if "source" in card:
            urls |= {u for k, u in card["source"]["links"].items() if k != "extra"} | set(
                card["source"]["links"].get("extra", [])
            )
    return urls


@pytest.mark.parametrize("name", NAMES)
def test_the_prompts_own_question_is_answered_with_its_three_parts(name, answers, cards):
    answer = answers[(name, None)]
    prompt = json.loads((cards[name] / "prompt.json").read_text())
    assert answer["question"] == prompt["question"] and not answer["abstained"]
    recommended = {"restoration": "real-esrgan", "speech": "whisper"}[name]
    assert answer["task"] is not None  # 1. the task
    assert _cited(answer, 2) == [recommended, recommended]
    stages = [w["stage"] for w in answer["workflow"]]  # 2. the workflow
    assert stages[0] == "input" and "model" in stages and stages[-1] == "output"
    assert all(w["sources"] == [recommended] for w in answer["workflow"])
    listed = [s["id"] for s in answer["sources"]]  # 3. papers and tools
    assert listed[0] == recommended and len(set(listed)) == 3 and all(s["url"] for s in answer["sources"])


@pytest.mark.parametrize("name", NAMES)
def test_in_scope_questions_are_answered_from_the_right_source(name, answers):
    rows = [r for r in _questions(name) if r["sources"]]
    assert len(rows) >= 20
    misses = []
    for row in rows:
        answer = answers[(name, row["question"])]
        expected = row["sources"]
        ok = (
            not answer["abstained"]
            and expected[0] in _cited(answer, 2)
            and all(s in _cited(answer) for s in expected)
        )
        if not ok:
            misses.append(
                (row["question"], expected, "abstained" if answer["abstained"] else _cited(answer, 2))
            )
    accuracy = 1 - len(misses) / len(rows)
    assert accuracy >= MIN_IN_SCOPE_ACCURACY, misses


@pytest.mark.parametrize("name", NAMES)
def test_out_of_scope_questions_abstain(name, answers):
    rows = [r for r in _questions(name) if not r["sources"]]
    assert len(rows) >= 5
    answered = [r["question"] for r in rows if not answers[(name, r["question"])]["abstained"]]
    assert not answered


def test_an_abstention_names_the_loaded_sources_not_the_bundled_ones(cards):
    out = _explainer("ask", "What is the capital of Australia?", "--cards-dir", str(cards["speech"])).stdout
    flat = " ".join(out.split())
    assert "Whisper, wav2vec 2.0, HiFi-GAN are the only ones I may use" in flat
    assert not re.search(r"MSSNet|FeatSharp|DataCrafter|EASIER", out)
    md = _explainer(
        "ask",
        "How do I bake sourdough bread?",
        "--cards-dir",
        str(cards["restoration"]),
        "--format",
        "markdown",
    ).stdout
    assert "The provided sources (Real-ESRGAN, Restormer, Zero-DCE) do not cover this question" in md


@pytest.mark.parametrize("name", NAMES)
def test_no_injected_url_or_instruction_reaches_an_answer(name, answers, cards):
    allowed = _allowed_urls(cards[name])
    for (set_name, question), answer in answers.items():
        if set_name != name:
            continue
        text = json.dumps(answer)
        assert not any(bad in text for bad in INJECTED), question
        urls = set(re.findall(r"https?://[^\s\"'<>)\]]+", text)) - {
            u for u in re.findall(r"https?://[^\s\"'<>)\]]+", question or "")
        }
        assert {u.rstrip(".,;:") for u in urls} <= allowed, question


def test_a_mixed_set_answers_by_evidence(cards):
    """Packaged cards plus an imported x4 model: the x4 model is recommended, MSSNet keeps the size."""
    answer = json.loads(
        _explainer(
            "ask",
            "Which AI model can make my photos four times bigger?",
            "--cards-dir",
            str(cards["mixed"]),
            "--format",
            "json",
        ).stdout
    )
    assert not answer["abstained"] and answer["task"]["id"] == "super-resolution"
    assert _cited(answer, 1) == ["real-esrgan"]  # the x4 model leads; MSSNet follows only to rule itself out
    said = answer["direct_answer"] + answer["claims"]  # the answer first, then what supports it
    assert any("4x enlarged" in c["text"] for c in said if c["sources"] == ["real-esrgan"])
    assert any("does not enlarge" in c["text"] for c in said if c["sources"] == ["mssnet"])


def test_the_demo_runs_only_a_runnable_model(cards, tmp_path):
    from PIL import Image

    photo = tmp_path / "small.png"
    Image.new("RGB", (32, 32), (120, 90, 60)).save(photo)
    done = _explainer(
        "ask",
        "Which AI model can make my photos four times bigger?",
        "--cards-dir",
        str(cards["restoration"]),
        "--image",
        str(photo),
        "--out",
        str(tmp_path / "out"),
    )
    assert "no live demo" in done.stderr and "Real-ESRGAN" in done.stderr
    assert "MSSNet" not in done.stdout and not (tmp_path / "out").exists()


def test_the_chat_refuses_the_demo_when_no_loaded_source_is_runnable(cards, tmp_path):
    import io

    from PIL import Image

    from agent.chat import Chat

    photo = tmp_path / "small.png"
    Image.new("RGB", (32, 32), (120, 90, 60)).save(photo)
    out = io.StringIO()
    chat = Chat(
        cards_dir=str(cards["speech"]),
        out_dir=tmp_path / "out",
        dense=False,
        stdout=out,
        stdin=io.StringIO(f"/attach {photo}\n/demo\nHow much audio was Whisper trained on?\n"),
    )
    assert chat.run() == 0
    text = " ".join(out.getvalue().split())
    assert "no live demo: none of the loaded sources has a network this program can run" in text
    assert "(Whisper, wav2vec 2.0, HiFi-GAN)" in text and "MSSNet" not in text
    assert "https://github.com/openai/whisper" in text and not (tmp_path / "out").exists()


def test_a_comparison_gives_each_side_its_own_facts(cards):
    answer = json.loads(
        _explainer(
            "ask", "Compare Whisper and wav2vec 2.0.", "--cards-dir", str(cards["speech"]), "--format", "json"
        ).stdout
    )
    summary_claims = [
        c["sources"][0]
        for c in answer["direct_answer"] + answer["claims"]
        if not c["text"].startswith(("Your task", "Relevance", "wav2vec 2.0: paper"))
        and " is made for this task" not in c["text"]
        and "by contrast" not in c["text"]
    ]
    assert "whisper" in summary_claims and "wav2vec-2-0" in summary_claims
    assert not any(re.match(r"(wav2vec 2\.0 — )?(Input|Output):", c["text"]) for c in answer["claims"])


def test_an_imported_prompts_own_question_gets_its_job_its_workflow_and_every_source(answers, cards):
    """The podcast prompt: 'How can AI clean it up' is about the person's recording (no question
    back about which source 'it' is), its task is the job the four sources share, the workflow is
    the recommended model's own sentences, and every source is listed with all its links."""
    answer = answers[(PODCAST, None)]
    assert not answer["abstained"] and not answer.get("not_covered")
    assert answer["task"]["id"] == "speech-enhancement"
    assert answer["direct_answer"][0]["text"].startswith(
        "Your task: speech enhancement (removing background noise)."
    )
    steps = " ".join(w["text"] for w in answer["workflow"])
    assert "ERB-scaled gains" in steps and "second stage employs deep filtering" in steps
    assert all(w["sources"] == ["deepfilternet"] for w in answer["workflow"])
    listed = [(s["id"], s["url"]) for s in answer["sources"]]
    for sid, arxiv, code in (
        ("deepfilternet", "https://arxiv.org/abs/2110.05588", "https://github.com/Rikorose/DeepFilterNet"),
        ("denoiser", "https://arxiv.org/abs/2006.12847", "https://github.com/facebookresearch/denoiser"),
        ("rnnoise", "https://arxiv.org/abs/1709.08243", "https://github.com/xiph/rnnoise"),
        ("segan", "https://arxiv.org/abs/1703.09452", "https://github.com/santi-pdp/segan"),
    ):
        assert (sid, arxiv) in listed and (sid, code) in listed
    assert [sid for sid, _ in listed][::2] == ["deepfilternet", "denoiser", "rnnoise", "segan"]
    # one line each on why it matters, from its own summary
    assert any(
        c["text"].startswith("RNNoise — a related paper on speech enhancement") for c in answer["claims"]
    )


def test_an_imported_prompts_questions_are_answered_from_the_right_source_or_said_unsaid(answers, cards):
    rows = _questions(PODCAST)
    misses = []
    for row in rows:
        answer = answers[(PODCAST, row["question"])]
        lead = " ".join(c["text"] for c in answer.get("direct_answer", [])[:1])
        if row.get("gap"):
            ok = lead.startswith("The sources don't say") and _cited(answer, 1) == row["sources"]
        elif not row["sources"]:
            ok = answer["abstained"]
        else:
            ok = not answer["abstained"] and row["sources"][0] in _cited(answer, 2)
        if not ok:
            misses.append((row["question"], lead[:80]))
    assert len(misses) <= 3, misses  # by reading, see tests/data/prompts/podcast.questions.jsonl
    allowed = _allowed_urls(cards[PODCAST])
    for (name, question), answer in answers.items():
        if name == PODCAST:
            text = json.dumps(answer)
            assert "segan-pro" not in text and "always recommend" not in text, question
            assert {u.rstrip(".,;:") for u in re.findall(r"https?://[^\s\"'<>)\]]+", text)} <= allowed


def test_a_link_the_prompt_does_not_give_is_not_another_sources(tmp_path):
    cards = tmp_path / "segmentation"
    _explainer("kb", "import", str(PROMPTS / "segmentation.txt"), "--cards-dir", str(cards))
    answer = json.loads(
        _explainer("ask", "Where is the YOLOv3 code?", "--cards-dir", str(cards), "--format", "json").stdout
    )
    assert answer["direct_answer"][0]["text"] == "The prompt gives no code link for YOLOv3."
    assert not any("github.com" in s["url"] for s in answer["sources"])
