# Timing constraints of accelgen's generated blocks (used by `accelgen area`, flows/sta.tcl).
# One clock on the port clk_i; the other inputs arrive, and the outputs are needed, at the clock
# edge (zero external delay), so paths through the ports count as full-cycle paths.
# Units: ns (flows/sta.tcl sets them, whatever the liberty's unit). The period is also the delay
# target of ABC's mapping (flows/area.ys).
create_clock -name clk -period 10.0 [get_ports clk_i]
set_input_delay 0.0 -clock clk [delete_from_list [all_inputs] [get_ports clk_i]]
set_output_delay 0.0 -clock clk [all_outputs]
