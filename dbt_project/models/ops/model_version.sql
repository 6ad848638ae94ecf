-- The digest of the models this warehouse was built from (warehouse.build.model_version): when it differs from
-- the models of the next night, that night rebuilds every incremental model from all batches.
select '{{ env_var("GRIDFUSION_MODEL_VERSION") }}' as version
