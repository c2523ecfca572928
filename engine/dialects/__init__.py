"""Dialects of BPMN other than SpiffWorkflow's, translated at deploy time.

`procedure.build_package` hands every diagram to `translate_diagram` before the
library parses it (`camunda`: Camunda's attributes and expressions; `implicit`: the
gateways and events BPMN lets a modeler leave out), and any error of the library
while parsing to `library_refusal` (`library_errors`, which also words the errors
`runtime` meets while an instance runs), so a diagram from Camunda Modeler or
bpmn.io either runs or is refused with a Romanian message naming the element —
never a traceback.
"""
from ..errors import ProcedureError
from . import camunda, implicit
from .library_errors import RUN_FAILURES, parse_refusal, run_message  # noqa: F401


def translate_diagram(root, filename: str, metadata: dict, files: dict[str, str]):
    camunda.translate(root, filename, metadata, files)
    implicit.apply(root)
    return root


def library_refusal(err: Exception, files: dict[str, str] | None = None) -> ProcedureError:
    return parse_refusal(err, files)
