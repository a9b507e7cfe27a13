// kernels/collision_box.h — narrowphase for pairs with a box: sphere : box, capsule : box and
// box : box, following MuJoCo's engine_collision_box.c (same contacts, same order).
// Conventions as in collision_primitive.h (geom 1 has the lower type; normal from 1 to 2).
#pragma once

#include "kernels/collision_primitive.h"

namespace stampede::kern::constraint {

// sphere : box: nearest point of the box to the sphere centre; a centre inside the box is
// pushed out through the nearest face
template <class Real>
SP_HD inline int collide_sphere_box(ContactPoint<Real>* con, Real margin,
                                    const Real* pos1, const Real* /*mat1*/, const Real* size1,
                                    const Real* pos2, const Real* mat2, const Real* size2) {
  Real tmp[3], center[3], clamped[3], deepest[3], pos[3];

  // sphere centre in the box frame, and its projection onto the box
  sub3(tmp, pos1, pos2);
  mul_mat_t_vec3(center, mat2, tmp);
  copy3(clamped, center);
  for (int i = 0; i < 3; i++) {
    if (size2[i] > 0) {
      clamped[i] = col_clip(clamped[i], -size2[i], size2[i]);
    }
  }
  copy3(deepest, center);
  sub3(tmp, clamped, center);
  Real dist = normalize3(tmp);
  if (dist - size1[0] > margin) {
    return 0;
  }

  if (dist <= ColConst<Real>::minval) {
    // centre inside: the nearest face gives the normal
    Real closest = (size2[0] + size2[1] + size2[2]) * 2;
    int k = 0;
    for (int i = 0; i < 6; i++) {
      Real face = col_abs((i % 2 ? Real(1) : Real(-1)) * size2[i / 2] - center[i / 2]);
      if (closest > face) {
        closest = face;
        k = i;
      }
    }
    Real nearest[3] = {0, 0, 0};
    nearest[k / 2] = (k % 2) ? Real(-1) : Real(1);
    copy3(pos, center);
    add_to_scl3(pos, nearest, (size1[0] - closest) / 2);
    mul_mat_vec3(con[0].normal, mat2, nearest);
    dist = -closest;
  } else {
    // centre outside: midway between the box point and the deepest sphere point
    add_to_scl3(deepest, tmp, size1[0]);
    zero3(pos);
    add_to_scl3(pos, clamped, Real(0.5));
    add_to_scl3(pos, deepest, Real(0.5));
    mul_mat_vec3(con[0].normal, mat2, tmp);
  }

  mul_mat_vec3(tmp, mat2, pos);
  add3(con[0].pos, tmp, pos2);
  con[0].dist = dist - size1[0];
  zero3(con[0].tangent);
  return 1;
}

// capsule : box, the closest-feature part: finds the segment parameter of the point nearest to
// the box (bestsegmentpos) and how the closest feature was reached; returns 0 if nothing valid
template <class Real>
struct CapsuleBoxClosest {
  Real bestsegmentpos;  // -1..1 along the capsule half-axis
  Real bestboxpos;      // -1..1 along the closest box edge
  int cltype;           // -3/-1: a capsule end is closest to a face; 0..8: an edge (clamp code)
  int clface;           // face axis clamped for cltype < 0 (-1: end inside the box)
  int clcorner;         // closest corner, bits per axis
  int cledge;           // closest edge axis
};

template <class Real>
SP_HD inline void capsule_box_closest(CapsuleBoxClosest<Real>& r, const Real pos[3],
                                      const Real halfaxis[3], Real radius, Real halflength,
                                      const Real* size2, Real margin) {
  Real bestdist = margin + 2 * (radius + halflength + size2[0] + size2[1] + size2[2]);
  r.bestsegmentpos = 0;
  r.bestboxpos = 0;
  r.cltype = -4;
  r.clface = -1;
  r.clcorner = 0;
  r.cledge = 0;

  // a capsule end nearest to a face (clamped along at most one axis)
  for (int i = -1; i <= 1; i += 2) {
    Real end[3], clamped[3];
    add_scl3(end, pos, halfaxis, Real(i));
    copy3(clamped, end);
    int nclamp = 0, clampaxis = -1;
    for (int j = 0; j < 3; j++) {
      if (clamped[j] < -size2[j]) {
        nclamp++;
        clampaxis = j;
        clamped[j] = -size2[j];
      } else if (clamped[j] > size2[j]) {
        nclamp++;
        clampaxis = j;
        clamped[j] = size2[j];
      }
    }
    if (nclamp > 1) {
      continue;
    }
    sub_from3(clamped, end);
    Real dist = dot3(clamped, clamped);
    if (dist < bestdist) {
      bestdist = dist;
      r.bestsegmentpos = Real(i);
      r.cltype = -2 + i;
      r.clface = clampaxis;
    }
  }

  // the capsule segment against each of the 12 box edges
  Real mc = halflength * halflength;
  for (int j = 0; j < 3; j++) {
    for (int i = 0; i < 8; i++) {
      if (i & (1 << j)) {
        continue;
      }
      // edge centre (corner i with axis j zeroed); the edge runs along axis j
      Real start[3];
      start[0] = ((i & 1) ? 1 : -1) * size2[0];
      start[1] = ((i & 2) ? 1 : -1) * size2[1];
      start[2] = ((i & 4) ? 1 : -1) * size2[2];
      start[j] = 0;

      Real dif[3];
      sub3(dif, start, pos);
      Real ma = size2[j] * size2[j];
      Real mb = -size2[j] * halfaxis[j];
      Real u = -size2[j] * dif[j];
      Real v = dot3(halfaxis, dif);
      Real det = ma * mc - mb * mb;
      if (col_abs(det) < ColConst<Real>::minval) {
        continue;
      }
      Real idet = 1 / det;

      // x1 along the edge, x2 along the capsule; s = 0/1/2: clamped low / free / clamped high
      Real x1 = (mc * u - mb * v) * idet;
      Real x2 = (ma * v - mb * u) * idet;
      int s1 = 1, s2 = 1;
      if (x1 > 1) {
        x1 = 1;
        s1 = 2;
        x2 = (v - mb) * (1 / mc);
      } else if (x1 < -1) {
        x1 = -1;
        s1 = 0;
        x2 = (v + mb) * (1 / mc);
      }
      if (x2 > 1) {
        x2 = 1;
        s2 = 2;
        x1 = (u - mb) * (1 / ma);
        if (x1 > 1) {
          x1 = 1, s1 = 2;
        } else if (x1 < -1) {
          x1 = -1, s1 = 0;
        }
      } else if (x2 < -1) {
        x2 = -1;
        s2 = 0;
        x1 = (u + mb) * (1 / ma);
        if (x1 > 1) {
          x1 = 1, s1 = 2;
        } else if (x1 < -1) {
          x1 = -1, s1 = 0;
        }
      }

      sub3(dif, start, pos);
      add_to_scl3(dif, halfaxis, -x2);
      dif[j] += size2[j] * x1;
      Real dist = dot3(dif, dif);

      // the -minval guards against an axis numerically parallel to the box
      if (dist < bestdist - ColConst<Real>::minval) {
        bestdist = dist;
        r.bestsegmentpos = x2;
        r.bestboxpos = x1;
        int code = s1 * 3 + s2;
        r.clcorner = i + (1 << j) * (code / 6);
        r.cledge = j;
        r.cltype = code;
      }
    }
  }
}

// capsule : box, the second-point part: returns the offset of a second contact point along the
// capsule from the first (in half-axis units), or -4 when there is none
template <class Real>
SP_HD inline Real capsule_box_second(const CapsuleBoxClosest<Real>& r, const Real pos[3],
                                     const Real axis[3], const Real halfaxis[3], int axisdir,
                                     const Real* size2) {
  Real secondpos = -4;
  Real mul = 1;
  if (r.cltype >= 0 && r.cltype / 3 != 1) {
    // closest to a box corner
    int c1 = axisdir ^ r.clcorner;
    if (c1 == 0 || c1 == 7) {
      return secondpos;  // pointing at or away from the corner
    }
    Real de, dp;
    if (c1 == 1 || c1 == 2 || c1 == 4) {
      mul = 1;
      de = 1 - r.bestsegmentpos;
      dp = 1 + r.bestsegmentpos;
    } else {
      mul = -1;
      c1 = 7 - c1;
      dp = 1 - r.bestsegmentpos;
      de = 1 + r.bestsegmentpos;
    }
    int ax = c1 == 1 ? 0 : (c1 == 2 ? 1 : 2);
    int ax1 = (ax + 1) % 3, ax2 = (ax + 2) % 3;
    if (axis[ax] * axis[ax] > Real(0.5)) {
      // second point along the box edge
      secondpos = de;
      Real e1 = 2 * size2[ax] / col_abs(halfaxis[ax]);
      if (e1 < secondpos) {
        secondpos = e1;
      }
      secondpos *= mul;
    } else {
      // second point along a box face
      secondpos = dp;
      Real e1 = 2 * size2[ax1] / col_abs(halfaxis[ax1]);
      if (e1 < secondpos) {
        secondpos = e1;
      }
      e1 = 2 * size2[ax2] / col_abs(halfaxis[ax2]);
      if (e1 < secondpos) {
        secondpos = e1;
      }
      secondpos *= -mul;
    }
  } else if (r.cltype >= 0) {
    // closest to the middle of a box edge: only a cross (X) configuration gets a second point
    int c1 = (axisdir ^ r.clcorner) & (7 - (1 << r.cledge));
    if (c1 != 1 && c1 != 2 && c1 != 4) {
      return secondpos;
    }
    int ax = r.cledge;
    int ax1 = (ax + 1) % 3, ax2 = (ax + 2) % 3;
    if (col_abs(axis[ax1]) > col_abs(axis[ax2])) {
      ax1 = ax2;
    }
    ax2 = 3 - ax - ax1;
    if (c1 & (1 << ax2)) {
      mul = 1;
      secondpos = 1 - r.bestsegmentpos;
    } else {
      mul = -1;
      secondpos = 1 + r.bestsegmentpos;
    }
    Real e1 = 2 * size2[ax2] / col_abs(halfaxis[ax2]);
    if (e1 < secondpos) {
      secondpos = e1;
    }
    Real e2;
    if (((axisdir & (1 << ax)) != 0) == ((c1 & (1 << ax2)) != 0)) {
      e2 = 1 - r.bestboxpos;
    } else {
      e2 = 1 + r.bestboxpos;
    }
    e1 = size2[ax] * e2 / col_abs(halfaxis[ax]);
    if (e1 < secondpos) {
      secondpos = e1;
    }
    secondpos *= mul;
  } else {
    // a capsule end closest to a face: the farthest capsule point still above that face
    if (r.clface == -1) {
      return secondpos;  // the end is inside the box
    }
    mul = r.cltype == -3 ? Real(1) : Real(-1);
    secondpos = 2;
    Real end[3];
    add_scl3(end, pos, halfaxis, -mul);
    for (int i = 0; i < 3; i++) {
      if (i == r.clface) {
        continue;
      }
      Real e1 = (size2[i] - end[i]) / halfaxis[i] * mul;
      if (e1 > 0 && e1 < secondpos) {
        secondpos = e1;
      }
      e1 = (-size2[i] - end[i]) / halfaxis[i] * mul;
      if (e1 > 0 && e1 < secondpos) {
        secondpos = e1;
      }
    }
    secondpos *= mul;
  }
  return secondpos;
}

// capsule : box: up to 2 sphere : box contacts at points of the capsule segment
template <class Real>
SP_HD inline int collide_capsule_box(ContactPoint<Real>* con, Real margin,
                                     const Real* pos1, const Real* mat1, const Real* size1,
                                     const Real* pos2, const Real* mat2, const Real* size2) {
  // capsule centre and axis in the box frame
  Real tmp[3], pos[3], axis[3], halfaxis[3];
  sub3(tmp, pos1, pos2);
  mul_mat_t_vec3(pos, mat2, tmp);
  Real zaxis[3] = {mat1[2], mat1[5], mat1[8]};
  mul_mat_t_vec3(axis, mat2, zaxis);
  Real halflength = size1[1];
  scl3(halfaxis, axis, halflength);
  int axisdir = (halfaxis[0] > 0 ? 1 : 0) + (halfaxis[1] > 0 ? 2 : 0) + (halfaxis[2] > 0 ? 4 : 0);

  CapsuleBoxClosest<Real> r;
  capsule_box_closest(r, pos, halfaxis, size1[0], halflength, size2, margin);
  if (r.cltype == -4) {
    return 0;
  }
  Real secondpos = capsule_box_second(r, pos, axis, halfaxis, axisdir, size2);

  // sphere of the capsule radius at the first point, then at the second
  Real local[3], world[3];
  add_scl3(local, pos, halfaxis, r.bestsegmentpos);
  mul_mat_vec3(world, mat2, local);
  add_to3(world, pos2);
  int n = collide_sphere_box(con, margin, world, mat1, size1, pos2, mat2, size2);
  if (secondpos > -3) {
    add_scl3(local, pos, halfaxis, secondpos + r.bestsegmentpos);
    mul_mat_vec3(world, mat2, local);
    add_to3(world, pos2);
    n += collide_sphere_box(con + n, margin, world, mat1, size1, pos2, mat2, size2);
  }
  return n;
}

}  // namespace stampede::kern::constraint

#include "kernels/collision_boxbox.h"
