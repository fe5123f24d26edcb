"""A 2-node CPU DdpCluster that trains a small model with gloo and ends (config: nodes, image)."""
import pulumi
import pulumi_ddpsim as ddpsim

config = pulumi.Config()
trainers = ddpsim.DdpCluster(
    "trainers",
    nodes=config.get_int("nodes", 2),
    gpus_per_node=0,
    image_mode="local",
    image=config.get("image", "ddpsim-cpu:latest"),
    script_args=["--steps", "20", "--checkpoint-every", "5"],
)

pulumi.export("containerNames", trainers.container_names)
pulumi.export("checkpointVolumeName", trainers.checkpoint_volume_name)
pulumi.export("logsCommand", trainers.logs_command)
