{#-
    The suggested action of every segment, from the editable seed
    seeds/config/segment_actions.csv (segmentation_type, segment, suggested_action). Letter
    case and surrounding spaces are ignored. First match wins:
      1. the row naming the segment: its name, or for a cluster its id ('2') or its name;
      2. clusters only: the row naming a word of the cluster's name - the parts between
         ' · ' ('Lapsed · long-standing · infrequent' has the words lapsed, long-standing,
         infrequent); the earliest word wins, because a name lists the strongest trait first;
      3. the row with segment '*' for the segmentation type (its default);
    otherwise the segment has no action.
-#}
with segment_profiles as (

    select * from {{ ref('segment_profiles') }}

),

segment_actions as (

    select * from {{ ref('segment_actions') }}

),

segments as (

    select
        segmentation_type,
        segment,
        lower(trim(segment)) as segment_key,
        lower(trim(segment_name)) as segment_name_key,
        {#- ' · ' around every word; a ' (2)' suffix of repeated names becomes a word of its own -#}
        ' · ' || replace(lower(trim(segment_name)), ' (', ' · (') || ' · ' as name_words
    from segment_profiles

),

actions as (

    select
        lower(trim(segmentation_type)) as segmentation_type,
        lower(trim(segment)) as action_key,
        trim(segment) as action_segment,
        trim(suggested_action) as suggested_action
    from segment_actions
    where trim(coalesce(suggested_action, '')) <> ''

),

candidates as (

    select
        segments.segmentation_type,
        segments.segment,
        actions.suggested_action,
        1 as match_rank,
        0 as match_position,
        case
            when segments.segmentation_type = 'cluster' and actions.action_key = segments.segment_key
                and actions.action_key <> segments.segment_name_key
                then 'cluster id'
            else 'segment'
        end as action_matched_on
    from segments
    inner join actions
        on segments.segmentation_type = actions.segmentation_type
        and actions.action_key in (segments.segment_key, segments.segment_name_key)

    union all

    select
        segments.segmentation_type,
        segments.segment,
        actions.suggested_action,
        2 as match_rank,
        {{ dbt.position("' · ' || actions.action_key || ' · '", "segments.name_words") }} as match_position,
        'word "' || actions.action_segment || '"' as action_matched_on
    from segments
    inner join actions
        on segments.segmentation_type = actions.segmentation_type
        and segments.segmentation_type = 'cluster'
        and {{ dbt.position("' · ' || actions.action_key || ' · '", "segments.name_words") }} > 0

    union all

    select
        segments.segmentation_type,
        segments.segment,
        actions.suggested_action,
        3 as match_rank,
        0 as match_position,
        'default (*)' as action_matched_on
    from segments
    inner join actions
        on segments.segmentation_type = actions.segmentation_type
        and actions.action_key = '*'

),

ranked as (

    select
        *,
        row_number() over (
            partition by segmentation_type, segment
            order by match_rank, match_position, suggested_action
        ) as candidate_rank
    from candidates

),

final as (

    select
        segments.segmentation_type,
        segments.segment,
        ranked.suggested_action,
        ranked.action_matched_on
    from segments
    left join ranked
        on segments.segmentation_type = ranked.segmentation_type
        and segments.segment = ranked.segment
        and ranked.candidate_rank = 1

)

select * from final
