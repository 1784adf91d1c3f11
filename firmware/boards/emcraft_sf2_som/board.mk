# SmartFusion2's core is a Cortex-M3 (ARMv7-M: no DSP instructions)
BOARD_CPU := cortex-m3
