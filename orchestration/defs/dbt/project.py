from dagster_dbt import DbtProject

from orchestration.lib.settings import PROJECT_ROOT

billing_project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT)
# Under `dg dev` the manifest is rebuilt from the models; elsewhere `billing` prepares it.
billing_project.prepare_if_dev()
