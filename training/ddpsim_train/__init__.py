"""ddpsim's DDP trainer, split into small modules; train_ddp.py is the entry point."""
