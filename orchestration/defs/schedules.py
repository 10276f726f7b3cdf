import dagster as dg

from orchestration.defs.jobs import billing_close
from orchestration.lib.sensing import new_event_files_request
from orchestration.lib.settings import BillingSettings

# Every day at 12:00 UTC, close the day before: by then the day is over in every time zone
# (the last to finish it is UTC-12), so each customer's periods that ended on it close.
daily_close = dg.build_schedule_from_partitioned_job(
    billing_close,
    name="daily_close",
    hour_of_day=12,
    minute_of_hour=0,
    description="Closes yesterday's billing day at 12:00 UTC, once it is over everywhere.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.sensor(
    job=billing_close,
    name="new_event_files",
    minimum_interval_seconds=60,
    description="Runs the close of the latest billing day when new Parquet files land in the "
                "events folder, so that their usage reaches the tables (pending periods, "
                "drafts, late usage) without waiting for the schedule.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def new_event_files(context: dg.SensorEvaluationContext, settings: BillingSettings):
    request, cursor = new_event_files_request(settings.events, context.cursor)
    context.update_cursor(cursor)
    if request is None:
        return dg.SkipReason("no new event file")
    return request
