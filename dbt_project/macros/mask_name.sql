{#- Keep the surname, hide the rest: 王小明 → 王**. -#}
{% macro mask_name(column) -%}
    case when {{ column }} is null then null
         else left({{ column }}, 1) || repeat('*', length({{ column }}) - 1) end
{%- endmacro %}
