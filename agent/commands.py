"""`explainer ask | chat | report`: argument definitions here, work in the modules they call.

Module-level imports stay light (no torch, no embeddings): `ask` must answer within 1.5 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.errors import AgentError
from common.cli import add_device_options, add_weights_option
from common.errors import EXIT_ABSTAINED
from models.formats import WEIGHTS_TASKS


def _add_demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", metavar="PATH", help="run the live MSSNet demo on this picture")
    add_weights_option(p, "the bundled weights for the task")
    p.add_argument(
        "--task",
        choices=WEIGHTS_TASKS,
        help="which bundled weights the demo runs: enlarge or deblur (default: from the "
        "question's task; --weights overrides it)",
    )
    p.add_argument(
        "--upscale",
        type=int,
        choices=(1, 2, 3, 4),
        default=None,
        help="enlarge with bicubic first (MSSNet keeps the size); default: the factor the question "
        'asks for about the attached picture ("twice as big"), else 1',
    )
    p.add_argument(
        "--reference",
        metavar="PATH",
        help="the sharp original at the result's size (the picture's size x --upscale), for PSNR/SSIM",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="shrink the picture xN (--upscale N, x2 by default) and enlarge it back with bicubic "
        "first, then score against the original; for the deblur task (without --upscale) blur it "
        "with a 13-px camera motion and noise instead",
    )
    add_device_options(p)
    p.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="N",
        help="tile size in pixels for large pictures (default: from free memory)",
    )


def _add_cards_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cards-dir",
        metavar="DIR",
        help="answer from the cards in DIR (e.g. made by 'explainer kb "
        "import'); default: $EXPLAINER_CARDS or the packaged cards",
    )


def _cards(args):
    """The knowledge base the command answers from (a one-line error when DIR is not a card folder)."""
    from agent.compose import load_default_kb

    return load_default_kb(getattr(args, "cards_dir", None))


def add_parsers(sub) -> None:
    ask = sub.add_parser(
        "ask",
        help="answer one question from the sources",
        description="Answer a question about image-restoration AI using only the provided sources.",
    )
    ask.add_argument(
        "question",
        nargs="?",
        help="the question, in quotes ('-' reads it from standard input; "
        "none: the question of the prompt the cards were imported from)",
    )
    ask.add_argument(
        "--format",
        choices=("terminal", "markdown", "json"),
        default="terminal",
        help="terminal (default), markdown or json (the design's JSON contract)",
    )
    ask.add_argument(
        "--long",
        action="store_true",
        help="the full answer (task, input-to-output workflow, papers and tools) even for a narrow question",
    )
    _add_out_option(ask, "where demo files go when --image is given (a new folder each run; default out/)")
    ask.add_argument(
        "--trace",
        action="store_true",
        help="also print how the question was understood (parts, subjects, attribute, leading facts) to stderr",
    )
    ask.add_argument(
        "--fail-on-abstain",
        action="store_true",
        help=f"exit with code {EXIT_ABSTAINED} when no source covers the question (for scripts)",
    )
    _add_demo_options(ask)
    _add_cards_option(ask)
    ask.set_defaults(run=run_ask)

    chat = sub.add_parser(
        "chat",
        help="interactive chat (/help for commands)",
        description="Ask questions one after another; /attach a picture for the live "
        "demo, /save the conversation, /help for the commands.",
    )
    _add_demo_options(chat)
    _add_cards_option(chat)
    _add_out_option(chat, "where demo folders go (a new folder each run; default out/)")
    chat.set_defaults(run=run_chat)

    report = sub.add_parser(
        "report",
        help="write a Markdown report with the demo's images",
        description="Write the answer as a Markdown report; with --image, the live demo's "
        "images go in assets/ beside it, linked relatively.",
    )
    report.add_argument("question", help="the question, in quotes ('-' reads it from standard input)")
    report.add_argument(
        "-o",
        "--output",
        "--out",
        dest="output",
        required=True,
        metavar="DIR/report.md",
        help="the report file, or a folder (DIR/ writes DIR/report.md)",
    )
    report.add_argument("--force", action="store_true", help="replace an existing report")
    _add_demo_options(report)
    _add_cards_option(report)
    report.set_defaults(run=run_report)


def _add_out_option(p: argparse.ArgumentParser, help_text: str) -> None:
    # -o/--output as in report and restore; --out kept for existing scripts
    p.add_argument("-o", "--output", "--out", dest="out", metavar="DIR", default="out", help=help_text)


def question_text(raw: str) -> str:
    """The question as typed, or read from standard input for '-' (echo ... | explainer ask -)."""
    if raw != "-":
        return raw
    if sys.stdin is None or sys.stdin.isatty():
        raise AgentError("'-' reads the question from standard input, but nothing is piped in")
    return sys.stdin.read()


def demo_options(args, answer=None) -> dict:
    """The demo's options; the weights follow models.weights_choice (the question's task a hint),
    the enlargement factor --upscale, else (given the answer) the one the question asks for about
    the picture; without the answer an unset --upscale stays None for the caller to decide."""
    return dict(
        weights=args.weights,
        task=args.task,
        card_task=answer.task.id if answer is not None and answer.task else None,
        upscale=args.upscale if answer is None else args.upscale or _asked_factor(args, answer) or 1,
        reference=args.reference,
        self_test=args.self_test,
        device=args.device,
        precision=args.precision,
        tile=args.tile,
    )


def _asked_factor(args, answer) -> int | None:
    from agent.demo.trigger import question_factor

    return None if args.reference else question_factor(answer)


def run_ask(args) -> int:
    from agent.compose import answer_question, attach_demo, demo_refusal
    from common.textsafe import clean_line

    kb = _cards(args)
    question = args.question
    if question is None:
        question = kb.question
        if not question:
            raise AgentError(
                f"no question given, and the cards in {kb.cards_dir} hold no prompt question: "
                f'explainer ask "QUESTION"'
            )
    question = question_text(question)
    if not clean_line(question):
        raise AgentError(
            'the question is empty: explainer ask "QUESTION" (e.g. "What can these sources do?")'
        )
    if args.image:  # everything the demo needs is checked before any work
        from agent.demo.run import check_demo_inputs
        from common.files import check_writable

        picture_size = check_demo_inputs(Path(args.image), args.reference, args.upscale or 1)
        check_writable(Path(args.out), folder=True)
    answer = answer_question(
        question,
        kb=kb,
        long=args.long,
        picture=bool(args.image),
        picture_size=picture_size if args.image else None,
    )
    if args.trace:
        print("\n".join(answer.trace), file=sys.stderr)
    if args.image:
        from agent.demo.trigger import demo_wanted

        refusal = (
            "no demo: the sources do not cover this question"
            if answer.abstained
            else demo_refusal(answer, kb)
            or (None if demo_wanted(answer, question) else "no demo: the question is not about the picture")
        )
        if refusal:
            print(f"note: {refusal}", file=sys.stderr)
        else:
            from agent.console import make_console
            from agent.demo.run import run_demo_in_new_dir
            from agent.demo.trigger import asks_about_streamlining

            progress_console = make_console(sys.stderr) if sys.stderr.isatty() else None
            attach_demo(
                answer,
                run_demo_in_new_dir(
                    Path(args.image),
                    Path(args.out),
                    console=progress_console,
                    streamline=asks_about_streamlining(answer),
                    **demo_options(args, answer),
                ),
            )
    from agent.render import render

    render(answer, args.format)
    return EXIT_ABSTAINED if answer.abstained and args.fail_on_abstain else 0


def run_chat(args) -> int:
    from agent.chat import Chat

    cards_dir = args.cards_dir
    if cards_dir:
        _cards(args)  # a bad DIR is a one-line error before the chat starts
    return Chat(
        image=args.image, out_dir=Path(args.out), demo_options=demo_options(args), cards_dir=cards_dir
    ).run()


def run_report(args) -> int:
    from agent.console import make_console
    from agent.report import report_path, write_report

    progress_console = make_console(sys.stderr) if args.image and sys.stderr.isatty() else None
    path = write_report(
        question_text(args.question),
        report_path(args.output),
        image=args.image,
        force=args.force,
        kb=_cards(args),
        console=progress_console,
        **demo_options(args),
    )
    print(f"wrote {path}")
    return 0
