"""A griffe extension for the API reference: batchfit's docstrings head their
doctested examples ``Example:``; griffe's Google parser knows ``Examples:``
(rendered as code). Rewrite the heading before the docstrings are parsed."""

import re

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", flags=re.MULTILINE)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
