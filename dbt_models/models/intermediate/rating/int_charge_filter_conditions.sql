-- Which events each price of a filtered charge counts, as conditions on event properties
-- (LAGO_RULES.md §4, getlago/lago-api ChargeFilters::MatchingAndIgnoredService).
--
-- An event counts in the price of filter F when it satisfies F's own condition ('match') and
-- none of F's 'exclude' conditions. F's exclusions are its children: the other filters of
-- the charge that constrain every key of F with one of F's values. A child with more keys is
-- more specific and takes its events; a child on the same keys is excluded as it is when its
-- values are a strict subset of F's, not at all when it is identical but newer (the oldest of
-- identical filters counts), and with F's values removed otherwise (unless F takes all values
-- of that key). The charge's default price counts events that match none of its filters.
--
-- One row per condition key: a condition holds when the event's property is in
-- filter_values for every key of the condition.
with

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

),

filter_values as (

    select * from {{ ref('stg_catalog__charge_filter_values') }}

),

charges as (

    select * from {{ ref('stg_catalog__charges') }}

),

declared as (

    select
        billable_metric_code,
        filter_key,
        list_sort(list(distinct filter_value)) as declared_values

    from {{ ref('stg_catalog__billable_metric_filters') }}
    group by billable_metric_code, filter_key

),

filter_keys as (

    -- One row per filter and key, with the "all values" marker expanded to the values the
    -- metric declares for that key.
    select
        pricings.charge_id,
        pricings.pricing_id,
        pricings.filter_position,
        filter_values.filter_key,
        bool_or(filter_values.filter_value = '__ALL_FILTER_VALUES__') as takes_all_values,
        list_sort(list(distinct filter_values.filter_value)
            filter (where filter_values.filter_value <> '__ALL_FILTER_VALUES__')) as listed_values

    from filter_values
    inner join pricings using (pricing_id)
    group by all

),

filters as (

    select
        filter_keys.charge_id,
        filter_keys.pricing_id,
        filter_keys.filter_position,
        filter_keys.filter_key,
        filter_keys.takes_all_values,
        case
            when filter_keys.takes_all_values then coalesce(declared.declared_values, [])
            else coalesce(filter_keys.listed_values, [])
        end as filter_values,
        count(*) over (partition by filter_keys.pricing_id) as key_count

    from filter_keys
    inner join charges using (charge_id)
    left join declared
        on charges.billable_metric_code = declared.billable_metric_code
        and filter_keys.filter_key = declared.filter_key

),

children as (

    -- (filter, child): the child constrains every key of the filter with one of its values.
    select
        parent.charge_id,
        parent.pricing_id as parent_id,
        child.pricing_id as child_id,
        any_value(parent.filter_position) as parent_position,
        any_value(child.filter_position) as child_position,
        any_value(child.key_count) = any_value(parent.key_count) as same_keys,
        bool_and(list_sort(child.filter_values) = list_sort(parent.filter_values)) as identical,
        bool_and(list_has_all(parent.filter_values, child.filter_values)) as within_parent

    from filters as parent
    inner join filters as child
        on parent.charge_id = child.charge_id
        and parent.pricing_id <> child.pricing_id
        and parent.filter_key = child.filter_key
        and list_has_any(parent.filter_values, child.filter_values)
    group by parent.charge_id, parent.pricing_id, child.pricing_id
    having count(*) = any_value(parent.key_count)

),

exclusions as (

    select
        children.charge_id,
        children.parent_id as pricing_id,
        'exclude' as condition_role,
        children.parent_id || ' > ' || children.child_id as condition_id,
        child.filter_key,
        case
            when children.same_keys and not children.identical and not children.within_parent
                and not parent.takes_all_values
                then list_filter(child.filter_values, lambda v: not list_contains(parent.filter_values, v))
            else child.filter_values
        end as filter_values

    from children
    inner join filters as child on children.child_id = child.pricing_id
    left join filters as parent
        on children.parent_id = parent.pricing_id
        and child.filter_key = parent.filter_key
    where not (children.same_keys and children.identical
               and children.child_position > children.parent_position)

),

own_conditions as (

    select
        charge_id,
        pricing_id,
        'match' as condition_role,
        pricing_id as condition_id,
        filter_key,
        filter_values

    from filters

),

default_exclusions as (

    -- The default price counts what no filter matches.
    select
        filters.charge_id,
        pricings.pricing_id,
        'exclude' as condition_role,
        pricings.pricing_id || ' > ' || filters.pricing_id as condition_id,
        filters.filter_key,
        filters.filter_values

    from filters
    inner join pricings
        on filters.charge_id = pricings.charge_id
        and pricings.is_default_bucket

),

conditions as (

    select * from own_conditions
    union all
    select * from exclusions
    union all
    select * from default_exclusions

)

select * from conditions
