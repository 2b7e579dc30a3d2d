"""Everything crdt_sync needs from Streamlit that Streamlit does not offer publicly.

This package is the only place that touches Streamlit internals (checked against 1.67),
one concept per module: which session, run and fragment is running (`context`), what the
session state knows about this run (`state_facts`), what a block puts on the page
(`elements`), rerunning other sessions (`scheduler`), session ends (`session_end`), the end
of each whole run (`run_end`) and the two settings crdt_sync changes (`patches`). Each
access is guarded: if a future Streamlit moves something, the bridge degrades (logged
once) instead of breaking.
"""

from .context import fragment_id as fragment_id
from .context import in_form as in_form
from .context import instantiated_keys as instantiated_keys
from .context import is_development_mode as is_development_mode
from .context import is_run_stopped as is_run_stopped
from .context import rerun_now as rerun_now
from .context import run_number as run_number
from .context import session_id as session_id
from .context import value_assignment_key as value_assignment_key
from .elements import ElementWatch as ElementWatch
from .elements import KeylessWidget as KeylessWidget
from .elements import watch_elements as watch_elements
from .patches import install_patches as install_patches
from .patches import silence_value_warning as silence_value_warning
from .run_end import on_full_run_end as on_full_run_end
from .scheduler import HOLD_MAX as HOLD_MAX
from .scheduler import MID_RUN_RETRY as MID_RUN_RETRY
from .scheduler import POLL_ENV as POLL_ENV
from .scheduler import RerunScheduler as RerunScheduler
from .scheduler import rerun_supported as rerun_supported
from .scheduler import scheduler as scheduler
from .session_end import is_session_active as is_session_active
from .session_end import on_session_end as on_session_end
from .state_facts import changed_widgets as changed_widgets
from .state_facts import code_set_keys as code_set_keys
from .state_facts import has_default as has_default
from .state_facts import held_keys as held_keys
from .state_facts import reported_keys as reported_keys
from .state_facts import reported_widget_values as reported_widget_values
from .state_facts import set_quietly as set_quietly
from .state_facts import widget_default as widget_default
from .state_facts import widget_id as widget_id
from .state_facts import widget_kind as widget_kind
from .state_facts import widget_value_type as widget_value_type
