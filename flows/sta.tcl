# Static timing of a mapped netlist with OpenSTA (../shared/TOOLCHAIN.md section 7).
#
# Run by `accelgen area` (flows/area.cpp) in the work directory of flows/area.ys, as
#   sta -no_splash -exit sta.tcl
# It reads fixed file names there: cells.lib (the liberty), netlist.v (Yosys output), top.txt (the
# top module name, one line) and clock.sdc (a copy of the SDC, constraints/*.sdc).
#
# Times are in ns whatever the liberty's time unit (set_cmd_units). Pre-layout estimate: ideal
# clock, no wire load, ideal input drivers. The liberty's default operating conditions are the
# corner. Lines starting with ACCELGEN are parsed by the tool; the full worst path goes to
# critical_path.txt.

read_liberty cells.lib
# "memory": "macro": the memory modules as black-box cells with their clk-to-dout (docs/memory.md).
if {[file exists macros.lib]} {
  read_liberty macros.lib
}
read_verilog netlist.v
set top_file [open top.txt r]
set top [string trim [read $top_file]]
close $top_file
link_design $top
set_cmd_units -time ns
read_sdc clock.sdc

foreach clk [all_clocks] {
  set name [get_full_name $clk]
  puts "ACCELGEN clock $name [get_property $clk period]"
  foreach path [find_timing_paths -path_delay max -group_count 1 -path_group $name] {
    puts "ACCELGEN path $name [get_property $path slack] [get_full_name [get_property $path startpoint]] [get_full_name [get_property $path endpoint]]"
  }
}
report_checks -path_delay max -digits 4 -fields {slew capacitance} > critical_path.txt
