-- Each version of each unit grid's households (SCD2, from the grids snapshot): when it began and ended. A grid
-- merged away has its last version ended at the end of the night it was first missing.
select
    grid_code,
    households,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_until
from {{ ref('grids') }}
