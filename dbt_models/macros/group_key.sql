{#
  group_key(keys, properties): the pricing group an event belongs to (LAGO_RULES.md §4,
  pricing_group_keys / grouped_by), as JSON text of the keys and the event's values, in the
  order the keys are listed: {"region":"eu","cloud":null}. A missing property is its own
  group (null). Null when the price has no group keys.
#}
{% macro group_key(keys, properties) -%}
    case
        when len({{ keys }}) > 0 then cast(to_json(map_from_entries(list_transform(
            {{ keys }},
            lambda k: {'key': k, 'value': json_extract_string({{ properties }}, '$."' || k || '"')}
        ))) as varchar)
    end
{%- endmacro %}
