{#-
  Party-organization coverage (党组织覆盖), defined once here. A place is covered on a day by the party
  organizations standing at the end of that day, as dim_organization_history has them: the version with
  valid_from <= the end of the day < valid_to. The party extract of day D lists the organizations as they are at
  the end of D, and the snapshot dates what it shows to the end of D (macros/snapshot_time.sql), so a change or
  dissolution made during D counts from D on: an organization dissolved on D covers D-1 but not D. An
  organization's first version reaches back to its founding day (founded_on), as the warehouse knows nothing of
  it before the first night that listed it. A change reaches the day of the night that first shows it: a night
  not loaded dates its changes to the next night loaded.
  A grid is covered while it has an organization of its own (a grid party branch, whatever its type or
  parent); a community while it has its own party committee (社区大党委: an organization at community level of
  type 党委; its resident units' branches do not count).
-#}

{#- The level of an organization in the hierarchy, from where it sits. -#}
{% macro org_level(grid_code, division_code) -%}
    case
        when {{ grid_code }} is not null then '网格'
        when {{ division_code }} like '%000000' then '区'
        when {{ division_code }} like '%000' then '街道'
        else '社区'
    end
{%- endmacro %}

{#- Per organization and day in ``days``, its version standing at the end of the day (``history``:
    dim_organization_history rows, ``organizations``: dim_organization rows, for the founding day). -#}
{% macro organizations_on_day(history, organizations, days) -%}
    with versions as (
        select
            h.*,
            case
                when row_number() over (partition by h.org_code order by h.valid_from) = 1
                    then least(h.valid_from, coalesce(o.founded_on + interval 1 day, h.valid_from))
                else h.valid_from
            end as standing_from
        from {{ history }} as h
        inner join {{ organizations }} as o on h.org_code = o.org_code
    )

    select
        v.org_code,
        d.date_day,
        v.org_type,
        {{ org_level('v.grid_code', 'v.division_code') }} as org_level,
        v.division_code,
        v.grid_code
    from {{ days }} as d
    inner join versions as v
        on v.standing_from <= d.date_day + interval 1 day
        and coalesce(v.valid_to > d.date_day + interval 1 day, true)
{%- endmacro %}

{#- Per grid and day in ``days``, whether an organization of its own stands at the end of the day. -#}
{% macro grid_party_branches_on_day(history, organizations, days) -%}
    with standing as (
        {{ organizations_on_day(history, organizations, days) }}
    )

    select distinct grid_code, date_day
    from standing
    where org_level = '网格'
{%- endmacro %}

{#- Per community and day in ``days``, whether its own party committee (社区大党委) stands at the end of the
    day. -#}
{% macro community_party_committees_on_day(history, organizations, days) -%}
    with standing as (
        {{ organizations_on_day(history, organizations, days) }}
    )

    select distinct division_code as community_code, date_day
    from standing
    where org_level = '社区' and org_type = '党委'
{%- endmacro %}
