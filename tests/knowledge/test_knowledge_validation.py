"""Invalid cards fail loudly: KnowledgeError naming the file and the offending id."""

import json
import shutil

import pytest

from knowledge.errors import KnowledgeError
from knowledge.store import PACKAGE_CARDS, load_knowledge_uncached


@pytest.fixture
def cards(tmp_path):
    target = tmp_path / "cards"
    shutil.copytree(PACKAGE_CARDS, target)
    return target


def edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def expect_error(cards, *needles):
    with pytest.raises(KnowledgeError) as info:
        load_knowledge_uncached(cards)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


def test_copy_of_packaged_cards_loads(cards):
    assert len(load_knowledge_uncached(cards).sources) == 4


def test_duplicate_fact_id(cards):
    edit(cards / "easier.json", lambda d: d["facts"].append(dict(d["facts"][0])))
    expect_error(cards, "easier.json", "duplicate fact id", "easier.identity")


def test_duplicate_source_id(cards):
    # One file per source, named after it: a second card for "easier" cannot hide under another name.
    (cards / "easier-copy.json").write_text((cards / "easier.json").read_text())
    expect_error(cards, "easier-copy.json", "'easier'", "does not match the file name")


def test_fact_id_outside_its_source(cards):
    edit(cards / "featsharp.json", lambda d: d["facts"][0].update(id="mssnet.stolen"))
    expect_error(cards, "featsharp.json", "mssnet.stolen", "must start with 'featsharp.'")


def test_fact_naming_another_source(cards):
    edit(cards / "featsharp.json", lambda d: d["facts"][0].update(source="mssnet"))
    expect_error(cards, "featsharp.json", "featsharp.identity", "mssnet")


def test_link_outside_canonical_table(cards):
    edit(cards / "mssnet.json", lambda d: d["source"]["links"].update(code="https://github.com/someone/fork"))
    expect_error(cards, "mssnet.json", "'mssnet'", "https://github.com/someone/fork")


def test_url_in_fact_text_must_be_a_source_link(cards):
    def change(d):
        d["facts"][1]["text"] += " See https://example.com/fake-paper for details."

    edit(cards / "datacrafter.json", change)
    expect_error(cards, "datacrafter.json", "datacrafter.task", "https://example.com/fake-paper")


def test_unknown_task_in_capability(cards):
    edit(cards / "capabilities.json", lambda d: d["capabilities"][0].update(task="denoising"))
    expect_error(cards, "capabilities.json", "unknown task id 'denoising'")


def test_unknown_source_in_capability(cards):
    edit(cards / "capabilities.json", lambda d: d["capabilities"][0].update(source="restormer"))
    expect_error(cards, "capabilities.json", "unknown source id 'restormer'")


def test_unknown_task_tag(cards):
    edit(cards / "easier.json", lambda d: d["facts"][0]["tags"].append("task:colourisation"))
    expect_error(cards, "easier.json", "easier.identity", "task:colourisation")


def test_unknown_task_id_in_vocabulary(cards):
    edit(cards / "tasks.json", lambda d: d["tasks"][0].update(id="denoising"))
    expect_error(cards, "tasks.json", "denoising")


def test_ambiguous_alias_must_be_an_alias(cards):
    edit(cards / "tasks.json", lambda d: d["tasks"][4]["ambiguous_aliases"].append("zip"))
    expect_error(cards, "tasks.json", "ambiguous aliases must also be aliases: zip")


def test_malformed_json_names_line(cards):
    (cards / "easier.json").write_text('{\n  "source": {\n    "id": "easier",,\n}')
    expect_error(cards, "easier.json", "malformed JSON at line 3")


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda d: d["facts"][2].pop("origin"), "easier.entropy-metric"),
        (lambda d: d["facts"][2].update(kind="rumour"), "kind"),
        (lambda d: d["facts"][2].update(workflow="training"), "workflow"),
        (lambda d: d["facts"][2].update(colour="blue"), "colour"),
        (lambda d: d["facts"][2].update(text="short"), "text"),
        (lambda d: d["source"].update(kind="blog"), "kind"),
        (lambda d: d["source"]["links"].update(paper="ftp://nowhere"), "not an http(s) URL"),
    ],
)
def test_malformed_cards(cards, change, needle):
    edit(cards / "easier.json", change)
    expect_error(cards, "easier.json", needle)


def test_file_name_must_match_source_id(cards):
    (cards / "easier.json").rename(cards / "simpler.json")
    expect_error(cards, "simpler.json", "'easier'")


def test_empty_directory(tmp_path):
    with pytest.raises(KnowledgeError, match="no source cards"):
        load_knowledge_uncached(tmp_path)


def test_missing_directory(tmp_path):
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge_uncached(tmp_path / "nope")


def test_unknown_source_id_without_seed(cards):
    data = json.loads((cards / "easier.json").read_text())
    data["source"]["id"] = "restormer"
    data["facts"] = data["tables"] = []
    (cards / "restormer.json").write_text(json.dumps(data))
    expect_error(cards, "restormer.json", "unknown source id 'restormer'")
    data["imported_from"] = "seed:other-prompt.txt"  # a seed's own sources are allowed
    (cards / "restormer.json").write_text(json.dumps(data))
    assert "restormer" in load_knowledge_uncached(cards).sources


def test_unknown_attribute_names_the_fact(cards):
    edit(cards / "mssnet.json", lambda d: d["facts"][0].update(attribute="colour-of-the-sky"))
    expect_error(cards, "mssnet.json", "mssnet.identity", "colour-of-the-sky", "attributes.yml")


def test_polarity_needs_an_attribute(cards):
    def drop(d):
        d["facts"][0].pop("attribute")
        d["facts"][0]["polarity"] = "yes"

    edit(cards / "mssnet.json", drop)
    expect_error(cards, "mssnet.json", "mssnet.identity", "attribute")


def test_table_row_must_have_every_column(cards):
    edit(cards / "mssnet.json", lambda d: d["tables"][0]["rows"][0].pop("wf"))
    expect_error(cards, "mssnet.json", "columns")


def test_table_id_outside_its_source(cards):
    edit(cards / "easier.json", lambda d: d["tables"][0].update(id="mssnet.accuracy"))
    expect_error(cards, "easier.json", "mssnet.accuracy", "must start with 'easier.'")


def test_a_tool_card_among_the_source_cards_is_refused(cards):
    edit(cards / "mssnet.json", lambda d: d["source"].update(kind="tool"))
    expect_error(cards, "mssnet.json", "kind 'tool'")
