{#-
  The service-application KPI "completed within promise" (按承诺时限办结), defined once here.

  An application's deadline is the day ``n`` working days after the day it was accepted, ``n`` being its
  item's promised working days (the acceptance day itself when ``n`` is 0). Weekends are skipped; public
  holidays and the weekend days worked in their place (调休) are not modelled, so a deadline across a holiday
  falls earlier than the one a clerk would count.
-#}

{#- The day ``n`` working days (Monday to Friday) after ``day``: from a weekend, counting starts as from the
    Friday before it, so Saturday + 1 is Monday. -#}
{% macro working_days_after(day, n) -%}
    case
        when {{ n }} = 0 then {{ day }}::date
        else (
            {{ day }}::date
            - greatest(isodow({{ day }}::date) - 5, 0)::integer
            + 7 * ({{ n }} // 5)::integer
            + ({{ n }} % 5)::integer
            + case
                when isodow({{ day }}::date) - greatest(isodow({{ day }}::date) - 5, 0) + {{ n }} % 5 > 5 then 2
                else 0
            end
        )
    end
{%- endmacro %}

{#- Completed no later than the deadline day; false while open, and when the item's promise is unknown. -#}
{% macro is_completed_within_promise(completed_at, deadline_day) -%}
    coalesce({{ completed_at }}::date <= {{ deadline_day }}, false)
{%- endmacro %}

{#- Per community and day, the additive counts of the applications in ``applications``
    (fct_service_application rows): submitted that day, completed that day, of those within the promise. -#}
{% macro service_kpi_events(applications) -%}
    select
        community_code,
        submitted_at::date as date_day,
        1 as applications_submitted,
        0 as applications_completed,
        0 as applications_completed_within_promise
    from {{ applications }}
    union all
    select community_code, completed_at::date, 0, 1, is_completed_within_promise::int
    from {{ applications }}
    where completed_at is not null
{%- endmacro %}

{% macro service_kpi_rates() -%}
    {{ kpi_ratio('applications_completed_within_promise', 'applications_completed') }}
        as completed_within_promise_rate
{%- endmacro %}
