# Power of a mapped netlist with OpenSTA 2.0.17 `report_power` (docs/energy.md).
#
# Run by flows/power.cpp as `sta -no_splash -exit power.tcl` in a work directory holding cells.lib
# (the liberty), netlist.v (the area flow's mapped netlist), top.txt (the top module), clock.sdc and
# activity.txt: one line per input port bit, "<pin> <toggles per cycle> <duty>", measured on the
# workload (flows/activity.h).
#
# OpenSTA 2.0.17 has no VCD/SAIF reader; its activity is vectorless: each input port bit starts
# with the toggle rate and duty given here (measured, flows/activity.h), and OpenSTA propagates
# toggle rates and duties through the combinational logic and through the registers (D to Q) by
# probability, the clock toggling twice per period (from the SDC). An input not listed gets
# activity 0 (held). `set_power_activity -pins` is broken in this version (it calls a missing
# get_pins_error), and an activity set on a register output (sta::set_power_pin_activity) does
# not propagate, so measured register toggle rates could not be used even if we had them.
# Output: power.txt, `report_power` in W at the SDC clock.

read_liberty cells.lib
# "memory": "macro": the memory black boxes (flows/memory_area.cpp; no access energy in them yet).
if {[file exists macros.lib]} {
  read_liberty macros.lib
}
read_verilog netlist.v
set top_file [open top.txt r]
set top [string trim [read $top_file]]
close $top_file
link_design $top
read_sdc clock.sdc

set_power_activity -input -activity 0.0 -duty 0.0
set f [open activity.txt r]
while {[gets $f line] >= 0} {
  if {[llength $line] != 3} continue
  set port [get_ports -quiet [lindex $line 0]]
  if {[llength $port] == 0} {
    puts "Error: activity.txt names no port of the netlist: [lindex $line 0]"
    continue
  }
  set_power_activity -input_ports $port -activity [lindex $line 1] -duty [lindex $line 2]
}
close $f
report_power -digits 6 > power.txt
