module latchy (input wire clk_i, input wire en_i, input wire [1:0] d_i, output reg [1:0] q_o, output reg [1:0] l_o);
  always @(posedge clk_i) q_o <= d_i ^ l_o;
  always @* if (en_i) l_o = d_i;
endmodule
