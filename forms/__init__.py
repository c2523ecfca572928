"""Dosar forms: JSON Schema form definitions, rendered as accessible HTML and
validated on the server with messages a clerk understands.  See README.md.

    form = FormDefinition.load("processes/petition/forms/answer.json")
    html = form.render(data, errors, lang="ro")
    data, errors = form.parse(request.form, request.files, store_file=..., existing=...)
"""

from .definition import Field, FormDefinition, FormDefinitionError
from .files import DEFAULT_MAX_BYTES, SUPPORTED_TYPES, sniff_content_type
from .messages import messages
from .validate import FORM_ERROR_KEY, REMOVE_SUFFIX

__all__ = [
    "DEFAULT_MAX_BYTES", "FORM_ERROR_KEY", "REMOVE_SUFFIX", "SUPPORTED_TYPES",
    "Field", "FormDefinition", "FormDefinitionError", "messages", "sniff_content_type",
]
