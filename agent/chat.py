"""`explainer chat`: a REPL with history, line editing and tab completion (prompt_toolkit on a
terminal, plain input otherwise).

/attach stages a picture without firing a turn; the demo runs on it once, with the next question
that concerns it (agent.demo.trigger) or on /demo. Later answers point to it in one line instead of
re-printing it. Ctrl-C stops a running demo or answer and returns to the prompt; Ctrl-D or /quit leaves.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agent.chat_input import HELP, line_reader
from agent.demo.result import DemoResult
from agent.errors import AgentError
from agent.transcript import DemoOnly, save_conversation
from common.textsafe import clean_line

if TYPE_CHECKING:
    from knowledge.store import KnowledgeBase


class Chat:
    def __init__(
        self,
        image: str | None = None,
        out_dir: Path = Path("out"),
        demo_options: dict | None = None,
        stdin=None,
        stdout=None,
        dense="auto",
        cards_dir: str | None = None,
    ):
        from agent.console import make_console

        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.console = make_console(self.stdout)
        self.out_dir = Path(out_dir)
        self.demo_options = demo_options or {}
        self.staged: Path | None = None
        self.demo: DemoResult | None = None  # the demo run on the staged picture (once)
        self.turns: list = []  # answers (and DemoOnly for a bare /demo), in order
        self.kb: KnowledgeBase | None = None  # loaded by run(), before any turn (see `sources`)
        self.cards_dir = cards_dir  # None: $EXPLAINER_CARDS or the packaged cards
        self.retriever = None
        self.dense = dense  # "auto": embeddings join in the background once loaded
        if image:
            self._stage(image)  # said once the sources are loaded (run), so the line can be true

    @property
    def sources(self) -> KnowledgeBase:
        """The loaded cards (run() loads them before the first turn)."""
        if self.kb is None:
            raise AgentError("the sources are not loaded yet")
        return self.kb

    def run(self) -> int:
        self._load_knowledge()
        self.console.print(
            f"Explainer chat. Ask a question, or /help. Answers use only the provided sources "
            f"({', '.join(self.sources.names())}).",
            markup=False,
        )
        if self.staged:
            self._say_attached()
        read = line_reader(self.stdin, self.stdout)
        while True:
            try:
                line = read()
            except KeyboardInterrupt:
                self.console.print("(Ctrl-C: type /quit or press Ctrl-D to leave)")
                continue
            except EOFError:
                self.console.print("bye")
                return 0
            line = clean_line(line)
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if self._command(line) == "quit":
                        self.console.print("bye")
                        return 0
                else:
                    self._ask(line)
            except KeyboardInterrupt:
                self.console.print("[yellow]stopped[/yellow] (the chat goes on)")
            except Exception as exc:  # noqa: BLE001 - no error in one command may end the conversation
                self.console.print(f"error: {_message(exc)}", markup=False)

    def _load_knowledge(self) -> None:
        from agent.compose import default_retriever, load_default_kb

        self.kb = load_default_kb(self.cards_dir)
        # BM25 answers at once; embeddings load in the background and join when ready
        self.retriever = default_retriever(self.kb, dense=self.dense)
        from agent.conversation import Conversation

        self.conversation = Conversation(self.kb)
        self.conversation.state.image = self.staged
        warm = getattr(self.retriever, "warm_up", None)
        if callable(warm):
            warm()

    # -- commands ---------------------------------------------------------------------------------
    def _command(self, line: str) -> str | None:
        try:
            parts = shlex.split(line)
        except ValueError:
            parts = line.split()
        name, args = parts[0].lower(), parts[1:]
        if name in ("/quit", "/exit", "/q"):
            return "quit"
        if name == "/help":
            self.console.print(HELP, markup=False)
        elif name == "/attach":
            if not args:
                raise AgentError("usage: /attach PATH")
            self._attach(" ".join(args))
        elif name == "/detach":
            self._detach(say=True)
        elif name == "/history":
            questions = [t.question for t in self.turns if not isinstance(t, DemoOnly)]
            for n, question in enumerate(questions, 1):
                self.console.print(f"{n:>3}  {question}", markup=False)
            if not questions:
                self.console.print("no questions yet", markup=False)
        elif name == "/demo":
            if self.demo is None:
                self._run_demo()
            if self.demo is not None:
                self.turns.append(DemoOnly(self.demo))  # /save keeps a bare /demo too
                from rich.text import Text

                from agent.render import demo_renderable

                self.console.rule(Text(f"Live demo: MSSNet on {self.demo.image_name}"), align="left")
                self.console.print(demo_renderable(self.demo, self.console))
        elif name == "/save":
            if not args:
                raise AgentError("usage: /save PATH.md [--force]")
            force = "--force" in args
            target = [a for a in args if a != "--force"]
            path = self.save(Path(" ".join(target)), force=force)
            self.console.print(f"saved {path}", markup=False)
        elif name == "/sources":
            self._sources()
        elif name == "/context":
            for line in self.conversation.state.describe(self.kb):
                self.console.print(line, markup=False)
        elif name == "/clear":
            self.conversation.clear()
            self._detach(say=False)
            self.console.print(
                "context cleared: the next question starts afresh (no picture attached)", markup=False
            )
        elif name == "/long":
            self._ask_long()
        else:
            raise AgentError(f"unknown command {clean_line(name)} (type /help)")
        return None

    def _stage(self, raw: str) -> Path:
        path = Path(clean_line(raw)).expanduser()
        from models.imageio import probe_image

        probe_image(path)  # missing, a text file, a folder or a symlink loop is refused now, not at the demo
        self.staged, self.demo = path, None
        if getattr(self, "conversation", None) is not None:
            self.conversation.state.image = path
        return path

    def _attach(self, raw: str) -> None:
        self._stage(raw)
        self._say_attached()

    def _say_attached(self) -> None:
        """What will happen with the picture, true for the sources loaded."""
        assert self.staged is not None and self.kb is not None
        runnable = [self.kb.sources[s].name for s in self.kb.sources if self.kb.runnable(s)]
        what = (
            f"{', '.join(runnable)} runs on it once, with your next question about it (or now: /demo)"
            if runnable
            else "none of the loaded sources can run on a picture, so there will be no demo"
        )
        self.console.print(f"attached {clean_line(self.staged.name)}: {what}", markup=False)

    def _detach(self, say: bool) -> None:
        name = self.staged.name if self.staged else None
        self.staged, self.demo = None, None
        if getattr(self, "conversation", None) is not None:
            self.conversation.state.image = None
        if say:
            self.console.print(
                f"detached {clean_line(name)}" if name else "no picture was attached", markup=False
            )

    def _run_demo(self, answer=None) -> None:
        """The live demo on the staged picture; `answer` (the question it runs for) decides whether it
        also streamlines and, without --upscale, the enlargement factor."""
        if self.staged is None:
            raise AgentError("no picture attached: /attach PATH first")
        kb = self.sources
        if not any(kb.runnable(sid) for sid in kb.sources):
            raise AgentError(
                f"no live demo: none of the loaded sources has a network this program can run "
                f"({', '.join(kb.names())})"
            )
        from agent.demo.run import load_engine, run_demo_in_new_dir
        from agent.demo.trigger import asks_about_streamlining, question_factor

        with self.console.status("loading MSSNet…"):
            # Let a background embeddings load (which imports torch too) finish first: two threads
            # importing torch at once can stall, and a half-done import must not be interrupted.
            wait = getattr(self.retriever, "wait_until_ready", None)
            if callable(wait):
                wait(120)  # returns at once when embeddings are off
            load_engine()  # torch and the engine: imported whole before anything can be interrupted
        try:  # the message is inside the try: a Ctrl-C right after it still lands here
            self.console.print(
                f"running MSSNet on {clean_line(self.staged.name)} (Ctrl-C stops it)…", markup=False
            )
            options = {"streamline": asks_about_streamlining(answer), **self.demo_options}
            if answer is not None and answer.task is not None:
                options["card_task"] = answer.task.id
            if not options.get("upscale") and not options.get("reference"):
                options["upscale"] = question_factor(answer) or 1
            self.demo = run_demo_in_new_dir(self.staged, self.out_dir, console=self.console, **options)
        except KeyboardInterrupt:
            self.console.print("demo stopped; the chat goes on", markup=False)
            self.demo = None

    def _picture_size(self) -> tuple[int, int] | None:
        """The staged picture's (width, height), measured, for the calculators; None if it can't be read."""
        if self.staged is None:
            return None
        from models.errors import ModelError
        from models.imageio import oriented_size

        try:
            return oriented_size(self.staged)
        except ModelError:
            return None

    def _ask(self, question: str) -> None:
        from agent.compose import attach_demo, demo_refusal
        from agent.demo.trigger import demo_wanted
        from agent.render import render_terminal

        answer = self.conversation.ask(
            question, picture=self.staged is not None, picture_size=self._picture_size()
        )
        fresh_demo = False
        if self.staged is not None and self.demo is None and demo_wanted(answer, question):
            try:
                refusal = demo_refusal(answer, self.kb)
                if refusal:
                    raise AgentError(refusal)
                self._run_demo(answer)
                fresh_demo = self.demo is not None
            except Exception as exc:  # noqa: BLE001 - no weights etc.: answer anyway, say why
                self.console.print(f"(demo skipped: {_message(exc)})", markup=False)
        if fresh_demo:
            attach_demo(answer, self.demo)  # shown once, with this answer
        self.turns.append(answer)
        if answer.resolved_question:
            self.console.print(f"(understood as: {answer.resolved_question})", markup=False, style="dim")
        render_terminal(answer, self.console, self.kb)
        if self.demo is not None and not fresh_demo and demo_wanted(answer, question):
            self.console.print(
                f"measured on your picture: {self.demo.headline} (see /demo)", markup=False, style="dim"
            )

    def _ask_long(self) -> None:
        """The last question again, answered in the full form."""
        from agent.compose import answer_question
        from agent.render import render_terminal

        question = self.conversation.state.last_question
        if not question:
            raise AgentError("nothing to expand yet: ask a question first, then /long")
        answer = answer_question(
            question,
            kb=self.kb,
            long=True,
            context=self.conversation.state.subjects,
        )  # the demo is not printed again: /demo shows it
        self.turns.append(answer)
        if self._taller_than_the_screen(lambda: render_terminal(answer, self.console, self.kb)):
            os.environ.setdefault("LESS", "-RFX")  # colours kept, quits at the end, screen not cleared
            with self.console.pager(styles=True):
                render_terminal(answer, self.console, self.kb)
        else:
            render_terminal(answer, self.console, self.kb)

    def _taller_than_the_screen(self, render) -> bool:
        """On an interactive terminal, whether `render`'s output would scroll off the screen."""
        if not (self.console.is_terminal and self.stdin.isatty()):
            return False
        with self.console.capture() as captured:
            render()
        return captured.get().count("\n") > self.console.height

    def _sources(self) -> None:
        """Each source with its links, one whole URL a line (never folded, so it copies whole)."""
        from rich.style import Style
        from rich.text import Text

        self.console.print(Text("Sources I may cite", style="bold"))
        for sid, src in self.sources.sources.items():
            self.console.print(Text(f"{sid}: {src.title}"))
            for url in src.urls():
                self.console.print(Text("    " + url, style=Style(link=url), no_wrap=True, overflow="ignore"))

    # -- saving -----------------------------------------------------------------------------------
    def save(self, path: Path, force: bool = False) -> Path:
        """The conversation as Markdown; demo images are copied next to it and linked relatively."""
        return save_conversation(self.turns, self.kb, path, force)


def _message(exc: Exception) -> str:
    """One line for any error: the user-facing ones as they are, a bug by its type (the chat goes on)."""
    from common.errors import one_line

    return one_line(exc) or f"unexpected {type(exc).__name__}: {clean_line(str(exc))[:200]}"
