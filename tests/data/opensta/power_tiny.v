// A hand-written netlist for the power test: input -> INVX1 -> DFFPOSX1 -> INVX1 -> output.
module tiny (clk_i, a_i, y_o);
  input clk_i;
  input a_i;
  output y_o;
  wire n1;
  wire q;
  INVX1 u_in (.A(a_i), .Y(n1));
  DFFPOSX1 u_reg (.CLK(clk_i), .D(n1), .Q(q));
  INVX1 u_out (.A(q), .Y(y_o));
endmodule
