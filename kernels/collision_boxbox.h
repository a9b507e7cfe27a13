// kernels/collision_boxbox.h — box : box narrowphase, following MuJoCo 4's mjc_BoxBox:
// 1. separating-axis test over the 15 candidate axes (3 faces of each box, 9 edge crosses),
//    with face axes preferred on near-ties;
// 2. a face axis clips the incident face of the other box against the side planes of the
//    reference face (every clipped vertex within the margin is a contact, at most 8);
//    an edge axis gives one contact midway between the closest points of the two edges.
#pragma once

#include "kernels/collision_primitive.h"

namespace stampede::kern::constraint {

// vertex capacity of the clipped polygon (a quad clipped by 4 half-planes has at most 8)
constexpr int kBoxBoxMaxVert = 12;
// most contacts box : box returns
constexpr int kBoxBoxMaxContacts = 8;

// clip the polygon in *cur (nin vertices, (x, y, z) with z carried along) against the half-plane
// sign * v[coord] <= limit; writes to *spare and swaps the buffers unless nothing is clipped
template <class Real>
SP_HD inline int boxbox_clip(int nin, Real (**cur)[3], Real (**spare)[3], int coord, Real sign,
                             Real limit) {
  Real (*in)[3] = *cur;
  Real d[kBoxBoxMaxVert];
  bool all_inside = true;
  for (int k = 0; k < nin; k++) {
    d[k] = sign * in[k][coord] - limit;
    all_inside = all_inside && d[k] <= 0;
  }
  if (all_inside) {
    return nin;
  }
  Real (*out)[3] = *spare;
  int nout = 0;
  for (int k = 0; k < nin; k++) {
    const Real* p = in[k];
    int k1 = k + 1 == nin ? 0 : k + 1;
    Real dp = d[k], dq = d[k1];
    if (dp <= 0 && nout < kBoxBoxMaxVert) {
      copy3(out[nout++], p);
    }
    if (((dp < 0 && dq > 0) || (dp > 0 && dq < 0)) && nout < kBoxBoxMaxVert) {
      const Real* q = in[k1];
      Real t = dp / (dp - dq);
      out[nout][0] = p[0] + t * (q[0] - p[0]);
      out[nout][1] = p[1] + t * (q[1] - p[1]);
      out[nout][2] = p[2] + t * (q[2] - p[2]);
      nout++;
    }
  }
  *cur = out;
  *spare = in;
  return nout;
}

// separating axis of edge i of box 1 crossed with edge j of box 2, in box 1's frame (not unit)
template <class Real>
SP_HD inline void boxbox_edge_axis(Real axis[3], const Real rot[9], int i, int j) {
  int i1 = (i + 1) % 3, i2 = (i + 2) % 3;
  axis[i] = 0;
  axis[i1] = -rot[3 * i2 + j];
  axis[i2] = rot[3 * i1 + j];
}

// stage 1: separating-axis test; returns false when separated by more than septol, else the
// winning axis code (0..2 face of box 1, 3..5 face of box 2, 6 + 3i + j edge pair)
template <class Real>
SP_HD inline bool boxbox_best_axis(int& code_out, const Real rot[9], const Real rotabs[9],
                                   const Real pos21[3], const Real pos12[3], const Real* size1,
                                   const Real* size2, Real septol) {
  Real sep_best = -ColConst<Real>::maxval;
  int code = -1;
  for (int i = 0; i < 3; i++) {
    Real radius2 = rotabs[3 * i] * size2[0] + rotabs[3 * i + 1] * size2[1] +
                   rotabs[3 * i + 2] * size2[2];
    Real sep = col_abs(pos21[i]) - size1[i] - radius2;
    if (sep > septol) {
      return false;
    }
    if (sep > sep_best) {
      sep_best = sep;
      code = i;
    }
  }
  for (int j = 0; j < 3; j++) {
    Real radius1 = rotabs[j] * size1[0] + rotabs[3 + j] * size1[1] + rotabs[6 + j] * size1[2];
    Real sep = col_abs(pos12[j]) - size2[j] - radius1;
    if (sep > septol) {
      return false;
    }
    if (sep > sep_best) {
      sep_best = sep;
      code = 3 + j;
    }
  }
  const Real sep_face = sep_best;
  const int code_face = code;

  // edge-cross axes; nearly parallel edges are left to the face axes
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) {
      int i1 = (i + 1) % 3, i2 = (i + 2) % 3;
      Real ax1 = -rot[3 * i2 + j];
      Real ax2 = rot[3 * i1 + j];
      Real norm2 = ax1 * ax1 + ax2 * ax2;
      if (norm2 < ColConst<Real>::boxbox_pareps) {
        continue;
      }
      Real inv = 1 / col_sqrt(norm2);
      ax1 *= inv;
      ax2 *= inv;
      Real radius1 = size1[i1] * col_abs(ax1) + size1[i2] * col_abs(ax2);
      int j1 = (j + 1) % 3, j2 = (j + 2) % 3;
      Real a2_1 = ax1 * rot[3 * i1 + j1] + ax2 * rot[3 * i2 + j1];
      Real a2_2 = ax1 * rot[3 * i1 + j2] + ax2 * rot[3 * i2 + j2];
      Real radius2 = size2[j1] * col_abs(a2_1) + size2[j2] * col_abs(a2_2);
      Real sep = col_abs(ax1 * pos21[i1] + ax2 * pos21[i2]) - radius1 - radius2;
      if (sep > septol) {
        return false;
      }
      // an edge must beat the best face by a relative bias
      if (sep - Real(1e-6) * col_abs(sep) > sep_best && sep > sep_face) {
        sep_best = sep;
        code = 6 + 3 * i + j;
      }
    }
  }
  if (code < 0) {
    return false;
  }

  // an edge axis within ~8 degrees of the best face axis gives way to the face unless it is
  // better by 5% of the face depth
  if (code >= 6) {
    int i = (code - 6) / 3, j = (code - 6) % 3;
    Real axis[3];
    boxbox_edge_axis(axis, rot, i, j);
    normalize3(axis);
    Real face_dot;
    if (code_face < 3) {
      face_dot = col_abs(axis[code_face]);
    } else {
      int f = code_face - 3;
      face_dot = col_abs(axis[0] * rot[f] + axis[1] * rot[3 + f] + axis[2] * rot[6 + f]);
    }
    if (face_dot > Real(0.99) &&
        sep_best < sep_face + Real(0.05) * col_abs(sep_face) + ColConst<Real>::minval) {
      code = code_face;
    }
  }
  code_out = code;
  return true;
}

// stage 2a: edge : edge, one contact midway between the closest points of the supporting edges
template <class Real>
SP_HD inline int boxbox_edge_contact(ContactPoint<Real>* con, int code, const Real rot[9],
                                     const Real pos21[3], const Real* pos1, const Real* mat1,
                                     const Real* size1, const Real* size2, Real septol) {
  int i = (code - 6) / 3, j = (code - 6) % 3;
  int i1 = (i + 1) % 3, i2 = (i + 2) % 3;
  int j1 = (j + 1) % 3, j2 = (j + 2) % 3;

  // unit axis in box 1's frame, from box 1 towards box 2
  Real axis[3];
  boxbox_edge_axis(axis, rot, i, j);
  normalize3(axis);
  if (dot3(axis, pos21) < 0) {
    scl3(axis, axis, Real(-1));
  }

  // axis in box 2's frame; a near-zero component makes the supporting edge ambiguous, so both
  // candidates are tried and the closer witness pair kept
  Real a2[3] = {
      axis[0] * rot[0] + axis[1] * rot[3] + axis[2] * rot[6],
      axis[0] * rot[1] + axis[1] * rot[4] + axis[2] * rot[7],
      axis[0] * rot[2] + axis[1] * rot[5] + axis[2] * rot[8],
  };
  const Real ambig = ColConst<Real>::boxbox_sgneps;
  int amb1 = -1, amb2 = -1;
  if (col_abs(axis[i1]) < ambig) {
    amb1 = i1;
  } else if (col_abs(axis[i2]) < ambig) {
    amb1 = i2;
  }
  if (col_abs(a2[j1]) < ambig) {
    amb2 = j1;
  } else if (col_abs(a2[j2]) < ambig) {
    amb2 = j2;
  }

  Real d2[3] = {rot[j], rot[3 + j], rot[6 + j]};
  Real b = d2[i];
  Real denom = 1 - b * b;
  Real w1[3] = {0, 0, 0}, w2[3] = {0, 0, 0};
  Real best_d2 = ColConst<Real>::maxval;
  for (int v1 = 0; v1 < (amb1 >= 0 ? 2 : 1); v1++) {
    for (int v2 = 0; v2 < (amb2 >= 0 ? 2 : 1); v2++) {
      // box 1 edge: support along +axis; box 2 edge: support along -axis
      Real c1[3];
      c1[i] = 0;
      c1[i1] = axis[i1] >= 0 ? size1[i1] : -size1[i1];
      c1[i2] = axis[i2] >= 0 ? size1[i2] : -size1[i2];
      if (amb1 >= 0 && v1) {
        c1[amb1] = -c1[amb1];
      }
      Real cc[3];
      cc[j] = 0;
      cc[j1] = a2[j1] >= 0 ? -size2[j1] : size2[j1];
      cc[j2] = a2[j2] >= 0 ? -size2[j2] : size2[j2];
      if (amb2 >= 0 && v2) {
        cc[amb2] = -cc[amb2];
      }
      Real c2[3];
      mul_mat_vec3(c2, rot, cc);
      add_to3(c2, pos21);

      // closest points of the two segments, each clamp re-solving the other parameter
      Real e[3];
      sub3(e, c2, c1);
      Real d1e = e[i];
      Real d2e = dot3(d2, e);
      Real s = denom < ColConst<Real>::minval ? Real(0) : (d1e - b * d2e) / denom;
      s = col_clip(s, -size1[i], size1[i]);
      Real t = col_clip(b * s - d2e, -size2[j], size2[j]);
      s = col_clip(d1e + b * t, -size1[i], size1[i]);

      Real p1[3], p2[3], gap[3];
      copy3(p1, c1);
      p1[i] += s;
      copy3(p2, c2);
      add_to_scl3(p2, d2, t);
      sub3(gap, p2, p1);
      Real gap2 = dot3(gap, gap);
      if (gap2 < best_d2) {
        best_d2 = gap2;
        copy3(w1, p1);
        copy3(w2, p2);
      }
    }
  }

  Real gap[3];
  sub3(gap, w2, w1);
  Real dist = dot3(gap, axis);
  if (dist > septol) {
    return 0;
  }
  Real mid[3] = {Real(0.5) * (w1[0] + w2[0]), Real(0.5) * (w1[1] + w2[1]),
                 Real(0.5) * (w1[2] + w2[2])};
  Real tmp[3];
  con[0].dist = dist;
  mul_mat_vec3(tmp, mat1, mid);
  add3(con[0].pos, tmp, pos1);
  mul_mat_vec3(con[0].normal, mat1, axis);
  zero3(con[0].tangent);
  return 1;
}

// stage 2b: face contact: clip the incident face against the reference face's side planes
template <class Real>
SP_HD inline int boxbox_face_contacts(ContactPoint<Real>* con, int code, const Real rot[9],
                                      const Real pos21[3], const Real pos12[3], const Real* pos1,
                                      const Real* mat1, const Real* size1, const Real* pos2,
                                      const Real* mat2, const Real* size2, Real margin) {
  bool ref1 = code < 3;  // box 1 owns the reference face
  int a = ref1 ? code : code - 3;
  const Real* sizeref = ref1 ? size1 : size2;
  const Real* sizeinc = ref1 ? size2 : size1;
  const Real* posref = ref1 ? pos1 : pos2;
  const Real* matref = ref1 ? mat1 : mat2;
  const Real* posoi = ref1 ? pos21 : pos12;

  // rinc(r, c): component r of incident axis c in the reference frame
  Real rinc[9];
  for (int r = 0; r < 3; r++) {
    for (int c = 0; c < 3; c++) {
      rinc[3 * r + c] = ref1 ? rot[3 * r + c] : rot[3 * c + r];
    }
  }
  Real sgn = posoi[a] >= 0 ? Real(1) : Real(-1);

  // incident face: the incident face whose normal is most (anti)parallel to the reference normal
  int binc = 0;
  for (int k = 1; k < 3; k++) {
    if (col_abs(rinc[3 * a + k]) > col_abs(rinc[3 * a + binc])) {
      binc = k;
    }
  }
  Real tinc = sgn * rinc[3 * a + binc] > 0 ? Real(-1) : Real(1);

  // incident face corners as (x, y) in the reference face plane and z above it
  int ax = (a + 1) % 3, ay = (a + 2) % 3;
  int bu = (binc + 1) % 3, bv = (binc + 2) % 3;
  Real poly[2][kBoxBoxMaxVert][3];
  Real cx[3], du[3], dv[3];
  for (int r = 0; r < 3; r++) {
    int c = r == 0 ? ax : (r == 1 ? ay : a);
    cx[r] = posoi[c] + tinc * sizeinc[binc] * rinc[3 * c + binc];
    du[r] = sizeinc[bu] * rinc[3 * c + bu];
    dv[r] = sizeinc[bv] * rinc[3 * c + bv];
  }
  cx[2] = sgn * cx[2] - sizeref[a];
  du[2] *= sgn;
  dv[2] *= sgn;
  const Real corner_sign[4][2] = {{1, 1}, {-1, 1}, {-1, -1}, {1, -1}};
  for (int k = 0; k < 4; k++) {
    Real su = corner_sign[k][0], sv = corner_sign[k][1];
    for (int r = 0; r < 3; r++) {
      poly[0][k][r] = cx[r] + su * du[r] + sv * dv[r];
    }
  }

  int nvert = 4;
  Real (*cur)[3] = poly[0];
  Real (*spare)[3] = poly[1];
  nvert = boxbox_clip(nvert, &cur, &spare, 0, Real(1), sizeref[ax]);
  nvert = boxbox_clip(nvert, &cur, &spare, 0, Real(-1), sizeref[ax]);
  nvert = boxbox_clip(nvert, &cur, &spare, 1, Real(1), sizeref[ay]);
  nvert = boxbox_clip(nvert, &cur, &spare, 1, Real(-1), sizeref[ay]);

  // keep vertices within the margin, dropping near-duplicates
  Real accepted[kBoxBoxMaxVert][3];
  int naccept = 0;
  Real dupe2 = ColConst<Real>::boxbox_dupeps *
               (sizeref[ax] * sizeref[ax] + sizeref[ay] * sizeref[ay]);
  for (int k = 0; k < nvert; k++) {
    if (cur[k][2] > margin) {
      continue;
    }
    bool dupe = false;
    for (int q = 0; q < naccept; q++) {
      Real dx = accepted[q][0] - cur[k][0];
      Real dy = accepted[q][1] - cur[k][1];
      if (dx * dx + dy * dy < dupe2) {
        dupe = true;
        break;
      }
    }
    if (!dupe && naccept < kBoxBoxMaxContacts) {
      copy3(accepted[naccept++], cur[k]);
    }
  }

  // normal from box 1 to box 2
  Real nsign = ref1 ? sgn : -sgn;
  Real normal[3] = {nsign * matref[a], nsign * matref[3 + a], nsign * matref[6 + a]};
  for (int k = 0; k < naccept; k++) {
    const Real* v = accepted[k];
    Real posc[3], tmp[3];
    posc[ax] = v[0];
    posc[ay] = v[1];
    posc[a] = sgn * (sizeref[a] + Real(0.5) * v[2]);
    con[k].dist = v[2];
    mul_mat_vec3(tmp, matref, posc);
    add3(con[k].pos, tmp, posref);
    copy3(con[k].normal, normal);
    zero3(con[k].tangent);
  }
  return naccept;
}

// box : box
template <class Real>
SP_HD inline int collide_box_box(ContactPoint<Real>* con, Real margin,
                                 const Real* pos1, const Real* mat1, const Real* size1,
                                 const Real* pos2, const Real* mat2, const Real* size2) {
  // rot: box 2 axes in box 1's frame (columns); pos21, pos12: each centre in the other's frame
  Real rot[9], rotabs[9], pos21[3], pos12[3], tmp[3];
  sub3(tmp, pos2, pos1);
  mul_mat_t_vec3(pos21, mat1, tmp);
  sub3(tmp, pos1, pos2);
  mul_mat_t_vec3(pos12, mat2, tmp);
  mul_mat_t_mat3(rot, mat1, mat2);
  for (int i = 0; i < 9; i++) {
    rotabs[i] = col_abs(rot[i]);
  }

  // the separation tests carry rounding slack proportional to the box sizes
  Real septol = margin + ColConst<Real>::boxbox_sepeps *
                             (size1[0] + size1[1] + size1[2] + size2[0] + size2[1] + size2[2]);
  int code = -1;
  if (!boxbox_best_axis(code, rot, rotabs, pos21, pos12, size1, size2, septol)) {
    return 0;
  }
  if (code >= 6) {
    return boxbox_edge_contact(con, code, rot, pos21, pos1, mat1, size1, size2, septol);
  }
  return boxbox_face_contacts(con, code, rot, pos21, pos12, pos1, mat1, size1, pos2, mat2,
                              size2, margin);
}

}  // namespace stampede::kern::constraint
