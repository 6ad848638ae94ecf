{#- No rows share the same values of all the given columns (a compound key); dbt packages are not used. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by all
    having count(*) > 1
{% endtest %}
