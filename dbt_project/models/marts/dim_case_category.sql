-- One row per grid matter (网格事项) of the catalogue, with its category and the category's deadline.
select
    item_code,
    item_name,
    category_code,
    category_name,
    category_name_en,
    deadline_hours
from {{ ref('case_catalogue') }}
