{#
  Tiered pricing (LAGO_RULES.md §5), shared by the graduated, graduated_percentage and volume
  models.

  tier_units(units, from_value, to_value, adjacent): the units of a total that fall in one
    tier. Tiers are written either "+1" (0-5, 6-10, 11-) or adjacent (0-5, 5-10, 10-): a
    tier from 0 holds min(units, to); a later tier holds min(units, to) - from, plus 1 in the
    "+1" convention.
  tier_reached(units, to_value, previous_tiers_below): a tier is priced when every tier before
    it ends below the total (the tier holding the total is the last one priced; with no usage
    only the first tier is, so its flat amount is billed).
#}
{% macro tier_units(units, from_value, to_value, adjacent) -%}
    (case
        when {{ to_value }} is not null and {{ units }} >= {{ to_value }} then {{ to_value }}
        else {{ units }}
    end
    - case when {{ from_value }} = 0 then 0 else {{ from_value }} end
    + case when {{ from_value }} = 0 or {{ adjacent }} then 0 else 1 end)
{%- endmacro %}
