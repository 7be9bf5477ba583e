// Formal harness (Yosys `read_verilog -formal`, `sat -seq WK+3 -prove-asserts`): one generated score
// lane (`LANE_MODULE, <name>_bs_lane) with the generated bound table (`TABLE_MODULE,
// <name>_bound_table, fed by `QPOS_MODULE, <name>_qpos) against the combinational reference
// lane_ref (tests/formal/lane_ref.v).
//
// Free inputs: the query, the key, theta (the whole TW-bit register range), the lane's query
// context, the key index; the query row and bound table of the *other* context are free on every
// cycle. They are sampled once, at cycle 0, and held, as the top holds a context's query row and
// table while its keys are scored; the bound table (of the sampled query and theta) and the
// reference's results are registered at the same edge, as the top registers the table when a query
// enters its context. Cycle 0 also holds the lane's asynchronous reset. The initial state is all
// zero (`sat -set-init-zero`; the lane's data registers are loaded at issue).
//
// Timeline: cycle 0 sample + reset, cycle 1 issue (the key enters the lane's next-key register at
// that edge), cycle 2 the key's row on row_i (the key store's synchronous read; the idle lane takes
// the key at the end of the cycle), cycles 3.. the lane's steps. row_i holds the key's row,
// plane-major, in every cycle. The output slot is never granted, so a kept score stays visible in
// the slot.
//
// Asserted, for every input:
//   - from cycle 3 while it is active, the lane works on the issued key and commits a step every
//     cycle;
//   - once it is idle again (the key ended at the edge before: nothing else is issued), its step
//     count equals the reference's n and kept_o of its last step equals the reference's s >= theta;
//   - it is idle from cycle WK + 3 on (at most WK steps, in cycles 3 .. WK + 2);
//   - then its result slot holds the key's index and exact score if and only if the key was kept.
module lane_bound_check #(
  // defaults: tests/data/formal/f_small.json; tests/test_formal.cpp sets them with -chparam
  parameter integer D   = 2,   // HeadDim
  parameter integer WQ  = 3,   // QWidth
  parameter integer WK  = 4,   // KWidth
  parameter integer TW  = 10,  // ThetaWidth
  parameter integer BW  = 11,  // BoundWidth
  parameter integer SW  = 8,   // ScoreWidth
  parameter integer KIW = 2,   // KeyIndexWidth
  parameter integer RW  = 12   // reference arithmetic width (TW + 2)
) (
  input wire            clk_i,
  input wire [D*WQ-1:0] q_in,
  input wire [D*WK-1:0] k_in,
  input wire [TW-1:0]   theta_in,
  input wire            ctx_in,
  input wire [KIW-1:0]  key_in,
  input wire [D*WQ-1:0] q_other_in,   // query row of the other context, free every cycle
  input wire [WK*BW-1:0] tc_other_in  // bound table of the other context, free every cycle
);
  reg [3:0] cnt = 4'd0;  // cycle number, saturating
  reg [7:0] steps_q = 8'd0;
  reg       kept_q = 1'b0;
  reg [D*WQ-1:0] q_r;
  reg [D*WK-1:0] k_r;
  reg [TW-1:0]   theta_r;
  reg            ctx_r;
  reg [KIW-1:0]  key_r;
  reg [WK*BW-1:0] tc_r;      // bound table, registered as the top registers it
  reg [7:0]       n_ref;     // reference results, registered once
  reg             kept_ref;
  reg signed [RW-1:0] s_ref;

  wire [BW-1:0]        qpos_d;
  wire [WK*BW-1:0]     tc_d;
  wire [7:0]           n_ref_d;
  wire                 kept_ref_d;
  wire signed [RW-1:0] s_ref_d;
  `QPOS_MODULE u_qpos (
    .q_i    (q_in),
    .qpos_o (qpos_d)
  );
  `TABLE_MODULE u_table (
    .qpos_i  (qpos_d),
    .theta_i (theta_in),
    .tc_o    (tc_d)
  );
  lane_ref #(.D(D), .WQ(WQ), .WK(WK), .TW(TW), .RW(RW)) u_ref (
    .q_i     (q_in),
    .k_i     (k_in),
    .theta_i (theta_in),
    .n_o     (n_ref_d),
    .kept_o  (kept_ref_d),
    .s_o     (s_ref_d)
  );

  always @(posedge clk_i) begin
    if (cnt == 4'd0) begin
      q_r <= q_in;
      k_r <= k_in;
      theta_r <= theta_in;
      ctx_r <= ctx_in;
      key_r <= key_in;
      tc_r <= tc_d;
      n_ref <= n_ref_d;
      kept_ref <= kept_ref_d;
      s_ref <= s_ref_d;
    end
    if (cnt != 4'd15) cnt <= cnt + 4'd1;
  end

  wire            act, ctx, commit, kept, room, nv, nctx, sv, sctx;
  wire [KIW-1:0]  skey;
  wire [SW-1:0]   sscore;
  reg  [D*WK-1:0] row;  // the key, plane-major: bit b of element t at [b*D + t]
  integer t, b;
  always @* begin
    for (b = 0; b < WK; b = b + 1)
      for (t = 0; t < D; t = t + 1) row[b*D + t] = k_r[t*WK + b];
  end

  `LANE_MODULE u_lane (
    .clk_i       (clk_i),
    .rst_ni      (cnt != 4'd0),
    .issue_i     (cnt == 4'd1),
    .issue_key_i (key_r),
    .issue_ctx_i (ctx_r),
    .row_i       (row),
    .q0_i        (ctx_r ? q_other_in : q_r),
    .q1_i        (ctx_r ? q_r : q_other_in),
    .tc0_i       (ctx_r ? tc_other_in : tc_r),
    .tc1_i       (ctx_r ? tc_r : tc_other_in),
    .grant_i     (1'b0),
    .act_o       (act),
    .ctx_o       (ctx),
    .commit_o    (commit),
    .kept_o      (kept),
    .room_o      (room),
    .nv_o        (nv),
    .nctx_o      (nctx),
    .sv_o        (sv),
    .sctx_o      (sctx),
    .skey_o      (skey),
    .sscore_o    (sscore)
  );

  always @(posedge clk_i) begin
    if (cnt >= 4'd3 && act) begin
      if (commit) steps_q <= steps_q + 8'd1;
      kept_q <= kept;  // kept_o of the latest step
    end
  end
  wire ended = cnt >= 4'd4 && !act;  // the key ended at an earlier edge

  wire signed [RW-1:0] sscore_ext = $signed(sscore);
  always @* begin
    if (cnt == 4'd2) assert (!act);  // the row arrives in cycle 2; the lane starts after it
    if (cnt >= 4'd3 && act) begin
      assert (commit && ctx == ctx_r);
    end
    assert (nv == (cnt == 4'd2));  // the key waits in the next-key register in cycle 2 only
    // step m happens in cycle m + 2: the WK-th step, in cycle WK + 2, ends the key at the latest
    if (cnt >= WK + 3) assert (ended);
    if (ended) begin
      assert (steps_q == n_ref);
      assert (kept_q == kept_ref);
      assert (sv == kept_ref);
      if (sv) assert (skey == key_r && sctx == ctx_r && sscore_ext == s_ref);
    end
  end
endmodule
