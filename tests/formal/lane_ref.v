// Combinational reference of one score's early termination, written from docs/semantics.md
// ("Bit-serial steps", "The upper bound U_m", "Early termination and n_ij") and nothing else: no
// bound table, no recurrence. For a query q (D elements, WQ-bit signed), a key k (D elements, WK-bit
// signed) and a threshold theta (TW-bit signed):
//   A_m  = sum_t q_t * (k_t >> b)                  after step m, b = WK - m (closed form)
//   U_m  = A_m * 2^b + (2^b - 1) * Qpos,           Qpos = sum_t max(q_t, 0)
//   n    = the first m in 1..WK with U_m < theta, else WK
//   kept = (s >= theta),                           s = sum_t q_t * k_t
// All arithmetic is in RW-bit signed integers, wide enough for every |U_m| and theta of the
// config (tests/test_formal.cpp sets RW = TW + 2: |theta| <= 2^(TW-1), |U_m| < 2^(SW+1) = 2^(TW-1)).
module lane_ref #(
  parameter integer D  = 2,
  parameter integer WQ = 3,
  parameter integer WK = 4,
  parameter integer TW = 10,
  parameter integer RW = 12
) (
  input  wire [D*WQ-1:0]      q_i,      // element t at [t*WQ +: WQ]
  input  wire [D*WK-1:0]      k_i,      // element t at [t*WK +: WK]
  input  wire [TW-1:0]        theta_i,
  output reg  [7:0]           n_o,      // termination step n (1..WK)
  output reg                  kept_o,   // s >= theta
  output reg  signed [RW-1:0] s_o       // exact score
);
  reg signed [RW-1:0] theta, qpos, a, u, qt, kt;
  reg found;
  integer t, m, b;
  always @* begin
    theta = $signed(theta_i);
    qpos = 0;
    s_o = 0;
    for (t = 0; t < D; t = t + 1) begin
      qt = $signed(q_i[t*WQ +: WQ]);
      kt = $signed(k_i[t*WK +: WK]);
      if (qt > 0) qpos = qpos + qt;
      s_o = s_o + qt * kt;
    end
    n_o = WK;
    found = 1'b0;
    a = 0;
    u = 0;
    for (m = 1; m <= WK; m = m + 1) begin
      b = WK - m;
      a = 0;
      for (t = 0; t < D; t = t + 1) begin
        qt = $signed(q_i[t*WQ +: WQ]);
        kt = $signed(k_i[t*WK +: WK]);
        a = a + qt * (kt >>> b);
      end
      u = a * (2 ** b) + (2 ** b - 1) * qpos;
      if (!found && u < theta) begin
        n_o = m;
        found = 1'b1;
      end
    end
    kept_o = s_o >= theta;
  end
endmodule
