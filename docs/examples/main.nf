// A Nextflow pipeline over a manifest: one task per shard.
//   nextflow run main.nf --manifest cohort.csv --pipeline ct.txt --outroot /data/prepped --shards 16
// Local executor by default; `-profile slurm` (nextflow.config) submits the
// tasks to Slurm instead.  A rerun skips up-to-date items inside dcmprep, so
// -resume is not needed for correctness.
nextflow.enable.dsl = 2

params.manifest = null
params.pipeline = null
params.outroot = null
params.shards = 4
params.dcmprep = 'dcmprep'

process SHARD {
    tag "${k}/${params.shards}"
    cpus 1

    input:
    val k

    output:
    val k

    script:
    """
    ${params.dcmprep} batch --manifest ${file(params.manifest)} --pipeline ${file(params.pipeline)} \\
        -o ${file(params.outroot)} --shard ${k}/${params.shards} --threads ${task.cpus} -q
    """
}

workflow {
    if (!params.manifest || !params.pipeline || !params.outroot)
        error "give --manifest, --pipeline and --outroot"
    Channel.of(1..params.shards) | SHARD
}
