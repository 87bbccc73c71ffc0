"""The explainer as a LangChain Runnable and the MSSNet demo as a LangChain tool (no language model)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.constants import ROOT

TINY_WEIGHTS = ROOT / "tests" / "data" / "tiny_official_checkpoint.pt"


def test_runnable_answers_questions_and_composes():
    from langchain_core.runnables import RunnableLambda

    from agent.answer import Answer
    from agent.integrations import explainer_runnable

    explainer = explainer_runnable()
    answer = explainer.invoke("How many stages does MSSNet run at each scale?")
    assert isinstance(answer, Answer) and not answer.abstained
    assert any("mssnet" in c.sources for c in answer.direct_answer + answer.claims)
    chain = explainer | RunnableLambda(lambda a: a.abstained)
    assert chain.batch(["What is the capital of Australia?"]) == [True]


def test_importing_the_integrations_does_not_import_torch():
    code = "import sys, agent.integrations; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tool_schema_and_a_real_restore(tmp_path, one_torch_thread):
    from agent.integrations import mssnet_demo_tool

    tool = mssnet_demo_tool()
    schema = tool.args_schema.model_json_schema()
    assert {"image", "upscale", "reference", "self_test"} <= set(schema["properties"])
    assert schema["properties"]["upscale"]["maximum"] == 4
    rng = np.random.default_rng(0)
    picture = tmp_path / "noise.png"
    Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(picture)
    result = tool.invoke(
        {
            "image": str(picture),
            "self_test": True,
            "weights": str(TINY_WEIGHTS),
            "out_dir": str(tmp_path / "out"),
        }
    )
    assert Path(result["files"]["restored"]).is_file()
    assert result["weights"]["sha256"] and result["provenance"].startswith("weights: ")
    json.dumps(result)  # what an agent gets back is plain JSON
