import dagster as dg

from orchestration.lib.progress import progress_logger


@dg.definitions
def loggers() -> dg.Definitions:
    return dg.Definitions(loggers={"progress": progress_logger})
