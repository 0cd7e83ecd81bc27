""" Contains all the data models used in inputs/outputs """

from .attempt_list_out import AttemptListOut
from .attempt_out import AttemptOut
from .audit_finding_out import AuditFindingOut
from .audit_report_out import AuditReportOut
from .bulk_migrate_request import BulkMigrateRequest
from .bulk_migration_item_out import BulkMigrationItemOut
from .bulk_migration_out import BulkMigrationOut
from .child_status_out import ChildStatusOut
from .child_status_out_details import ChildStatusOutDetails
from .child_status_out_mirrors import ChildStatusOutMirrors
from .child_status_out_mirrors_additional_property import ChildStatusOutMirrorsAdditionalProperty
from .conflict_problem_out import ConflictProblemOut
from .contract_out import ContractOut
from .create_flow_request import CreateFlowRequest
from .create_flow_request_configuration import CreateFlowRequestConfiguration
from .event_out import EventOut
from .event_out_data import EventOutData
from .event_page_out import EventPageOut
from .execute_phase_request import ExecutePhaseRequest
from .flow_out import FlowOut
from .flow_out_configuration import FlowOutConfiguration
from .flow_out_phase_results import FlowOutPhaseResults
from .flow_page_out import FlowPageOut
from .flow_status import FlowStatus
from .flow_status_out import FlowStatusOut
from .flow_summary_out import FlowSummaryOut
from .flow_type_list_out import FlowTypeListOut
from .flow_type_out import FlowTypeOut
from .flow_type_out_example_configuration import FlowTypeOutExampleConfiguration
from .flow_type_out_example_inputs import FlowTypeOutExampleInputs
from .flow_type_out_example_inputs_additional_property import FlowTypeOutExampleInputsAdditionalProperty
from .flow_type_out_input_schemas import FlowTypeOutInputSchemas
from .flow_type_out_input_schemas_additional_property import FlowTypeOutInputSchemasAdditionalProperty
from .flow_type_version_out import FlowTypeVersionOut
from .flow_type_version_out_flows_by_status_type_0 import FlowTypeVersionOutFlowsByStatusType0
from .forbidden_problem_out import ForbiddenProblemOut
from .health_out import HealthOut
from .held_phase_out import HeldPhaseOut
from .lease_out import LeaseOut
from .legacy_active_flows_out import LegacyActiveFlowsOut
from .legacy_flow_out import LegacyFlowOut
from .legacy_flow_out_phase_completion import LegacyFlowOutPhaseCompletion
from .legacy_flow_status_out import LegacyFlowStatusOut
from .legacy_flow_status_out_phase_completion import LegacyFlowStatusOutPhaseCompletion
from .legacy_initialize_request import LegacyInitializeRequest
from .legacy_initialize_request_configuration import LegacyInitializeRequestConfiguration
from .legacy_initialize_request_raw_data_type_0_item import LegacyInitializeRequestRawDataType0Item
from .legacy_usage_item_out import LegacyUsageItemOut
from .legacy_usage_out import LegacyUsageOut
from .list_flows_status_type_0_item import ListFlowsStatusType0Item
from .liveness_out import LivenessOut
from .master_status_out import MasterStatusOut
from .migrate_flow_request import MigrateFlowRequest
from .migration_plan_out import MigrationPlanOut
from .operation import Operation
from .phase_out import PhaseOut
from .phase_state import PhaseState
from .problem_out import ProblemOut
from .queue_out import QueueOut
from .queued_flow_out import QueuedFlowOut
from .readiness_out import ReadinessOut
from .readiness_out_checks import ReadinessOutChecks
from .role import Role
from .running_phase_out import RunningPhaseOut
from .start_flow_request import StartFlowRequest
from .submit_input_body import SubmitInputBody

__all__ = (
    "AttemptListOut",
    "AttemptOut",
    "AuditFindingOut",
    "AuditReportOut",
    "BulkMigrateRequest",
    "BulkMigrationItemOut",
    "BulkMigrationOut",
    "ChildStatusOut",
    "ChildStatusOutDetails",
    "ChildStatusOutMirrors",
    "ChildStatusOutMirrorsAdditionalProperty",
    "ConflictProblemOut",
    "ContractOut",
    "CreateFlowRequest",
    "CreateFlowRequestConfiguration",
    "EventOut",
    "EventOutData",
    "EventPageOut",
    "ExecutePhaseRequest",
    "FlowOut",
    "FlowOutConfiguration",
    "FlowOutPhaseResults",
    "FlowPageOut",
    "FlowStatus",
    "FlowStatusOut",
    "FlowSummaryOut",
    "FlowTypeListOut",
    "FlowTypeOut",
    "FlowTypeOutExampleConfiguration",
    "FlowTypeOutExampleInputs",
    "FlowTypeOutExampleInputsAdditionalProperty",
    "FlowTypeOutInputSchemas",
    "FlowTypeOutInputSchemasAdditionalProperty",
    "FlowTypeVersionOut",
    "FlowTypeVersionOutFlowsByStatusType0",
    "ForbiddenProblemOut",
    "HealthOut",
    "HeldPhaseOut",
    "LeaseOut",
    "LegacyActiveFlowsOut",
    "LegacyFlowOut",
    "LegacyFlowOutPhaseCompletion",
    "LegacyFlowStatusOut",
    "LegacyFlowStatusOutPhaseCompletion",
    "LegacyInitializeRequest",
    "LegacyInitializeRequestConfiguration",
    "LegacyInitializeRequestRawDataType0Item",
    "LegacyUsageItemOut",
    "LegacyUsageOut",
    "ListFlowsStatusType0Item",
    "LivenessOut",
    "MasterStatusOut",
    "MigrateFlowRequest",
    "MigrationPlanOut",
    "Operation",
    "PhaseOut",
    "PhaseState",
    "ProblemOut",
    "QueuedFlowOut",
    "QueueOut",
    "ReadinessOut",
    "ReadinessOutChecks",
    "Role",
    "RunningPhaseOut",
    "StartFlowRequest",
    "SubmitInputBody",
)
