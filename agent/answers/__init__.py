"""The direct answer of each part of an Understanding: one small handler per answer kind.

`answer_parts(understanding, kb)` reads the parts the understanding layer made (knowledge.understand)
and never searches again: every part ends with a cited fact, a computed result that cites its fact,
or an explicit "the sources don't say ..." from the language data's frames.
"""

from agent.answers.registry import HANDLERS, PartAnswer, answer_parts

__all__ = ["HANDLERS", "PartAnswer", "answer_parts"]
