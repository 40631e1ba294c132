"""Fieldwork's workflow engine: definitions, checks, guards, actions and decisions.

Plain Python: it imports only the standard library and PyYAML, reads no file at
import time, and never performs the actions it decides on.
"""

from workflows.actions import ActionRequest, action_specs
from workflows.check import check_directory, check_file, format_problems
from workflows.engine import (
    Actor,
    AvailableTransition,
    Decision,
    Event,
    OrderFacts,
    Refusal,
    ReplayError,
    available_transitions,
    decide,
    due_timers,
    replay,
    validate_input,
)
from workflows.guards import guard_specs
from workflows.loader import (
    UnknownWorkflowError,
    WorkflowRegistry,
    default_definitions_dir,
    load_definition,
)
from workflows.model import (
    Definition,
    DefinitionError,
    InputField,
    Labels,
    Problem,
    Reason,
    State,
    Timer,
    Transition,
)

__all__ = [
    "ActionRequest",
    "Actor",
    "AvailableTransition",
    "Decision",
    "Definition",
    "DefinitionError",
    "Event",
    "InputField",
    "Labels",
    "OrderFacts",
    "Problem",
    "Reason",
    "Refusal",
    "ReplayError",
    "State",
    "Timer",
    "Transition",
    "UnknownWorkflowError",
    "WorkflowRegistry",
    "action_specs",
    "available_transitions",
    "check_directory",
    "check_file",
    "decide",
    "default_definitions_dir",
    "due_timers",
    "format_problems",
    "guard_specs",
    "load_definition",
    "replay",
    "validate_input",
]
