"""Admins' changes to the knowledge, one function per change, one module per resource.

Each function checks its change as strictly as the bot needs it, writes it and records it
with `store.record` (who, what, the value before and after). That audit entry also raises
the knowledge's version, so the bot and the web app use the change from their next message
or page on, without a restart. A refused change raises EditError with a Dutch message the
page shows as it is; every function checks everything before it writes anything, so after
an EditError the caller's transaction is as it was and the page can render from it.

The pages and the API import the module of their resource; the changes and their forms
are also here as one API (`editing.save_rule`), for callers that go through several
resources (the tests of every change). Membership of a department is a change to an
account (bot.accounts), and not importable from here: bot.accounts uses this package.
"""

from bot.knowledge.editing.common import EditError
from bot.knowledge.editing.departments import DepartmentForm, delete_department, save_department
from bot.knowledge.editing.intents import (
    add_examples,
    create_faq_intent,
    delete_example,
    delete_faq_intent,
    edit_example,
)
from bot.knowledge.editing.questions import (
    QuestionForm,
    delete_question,
    edit_need_label,
    edit_prompt,
    move_question,
    question_from_form,
    save_question,
)
from bot.knowledge.editing.routing import (
    ConditionsForm,
    conditions_from_form,
    delete_rule,
    move_rule,
    neighbourhoods,
    replace_rules,
    save_rule,
)
from bot.knowledge.editing.texts import edit_text, fill_in

__all__ = [
    "ConditionsForm",
    "DepartmentForm",
    "EditError",
    "QuestionForm",
    "add_examples",
    "conditions_from_form",
    "create_faq_intent",
    "delete_department",
    "delete_example",
    "delete_faq_intent",
    "delete_question",
    "delete_rule",
    "edit_example",
    "edit_need_label",
    "edit_prompt",
    "edit_text",
    "fill_in",
    "move_question",
    "move_rule",
    "neighbourhoods",
    "question_from_form",
    "replace_rules",
    "save_department",
    "save_question",
    "save_rule",
]
