// kernels/collision_primitive.h — narrowphase for primitive geom pairs: plane, sphere, capsule
// (and box in collision_box.h). Each function follows the algorithm of MuJoCo's own collider
// for the pair (engine_collision_primitive.c), so it returns the same contacts in the same order.
//
// Conventions (MuJoCo's)
// - geom 1 has the lower geom type (plane < sphere < capsule < box); the normal points from
//   geom 1 to geom 2; dist < 0 is penetration; pos is midway between the two surfaces.
// - `margin` is the detection distance (MuJoCo passes margin + gap): a pair farther apart than
//   that gives no contact.
// - pos/mat/size are the geom's world position (3), rotation matrix (9, row-major) and size (3).
// - Each function writes at most its pair's capacity (collision_max_contacts) and returns the count.
#pragma once

#include "kernels/collision_math.h"

namespace stampede::kern::constraint {

// one contact as a narrowphase function produces it, before the frame is completed
template <class Real>
struct ContactPoint {
  Real dist;        // signed distance between the surfaces (negative: penetration)
  Real pos[3];      // contact position, world frame, midway between the surfaces
  Real normal[3];   // unit normal, from geom 1 to geom 2
  Real tangent[3];  // first tangent direction, or zero: the frame chooses one
};

// geom types, MuJoCo's mjtGeom numbering
enum GeomType : int {
  kGeomPlane = 0,
  kGeomHField = 1,
  kGeomSphere = 2,
  kGeomCapsule = 3,
  kGeomEllipsoid = 4,
  kGeomCylinder = 5,
  kGeomBox = 6,
  kGeomMesh = 7,
};

// complete a contact frame from its normal (row 0) and optional tangent (row 1), as
// mju_makeFrame: rows are (normal, tangent1, tangent2), right-handed
template <class Real>
SP_HD inline void contact_make_frame(Real frame[9], const Real normal[3], const Real tangent[3]) {
  copy3(frame, normal);
  copy3(frame + 3, tangent);
  normalize3(frame);
  if (dot3(frame + 3, frame + 3) < Real(0.25)) {
    zero3(frame + 3);
    if (frame[1] < Real(0.5) && frame[1] > Real(-0.5)) {
      frame[4] = 1;
    } else {
      frame[5] = 1;
    }
  }
  Real tmp[3];
  scl3(tmp, frame, dot3(frame, frame + 3));
  sub_from3(frame + 3, tmp);
  normalize3(frame + 3);
  cross3(frame + 6, frame, frame + 3);
}

// plane : sphere (also the building block of plane : capsule)
template <class Real>
SP_HD inline int collide_plane_sphere(ContactPoint<Real>* con, Real margin,
                                      const Real* pos1, const Real* mat1, const Real* /*size1*/,
                                      const Real* pos2, const Real* /*mat2*/, const Real* size2) {
  con[0].normal[0] = mat1[2];
  con[0].normal[1] = mat1[5];
  con[0].normal[2] = mat1[8];

  // distance of the centre along the plane normal
  Real dif[3];
  sub3(dif, pos2, pos1);
  Real cdist = dot3(dif, con[0].normal);
  if (cdist > margin + size2[0]) {
    return 0;
  }

  // contact midway between the plane and the sphere surface
  con[0].dist = cdist - size2[0];
  scl3(dif, con[0].normal, -con[0].dist / 2 - size2[0]);
  add3(con[0].pos, pos2, dif);
  zero3(con[0].tangent);
  return 1;
}

// plane : capsule: a sphere at each end; the frame's first tangent is the capsule axis
template <class Real>
SP_HD inline int collide_plane_capsule(ContactPoint<Real>* con, Real margin,
                                       const Real* pos1, const Real* mat1, const Real* size1,
                                       const Real* pos2, const Real* mat2, const Real* size2) {
  Real axis[3] = {mat2[2], mat2[5], mat2[8]};
  Real segment[3];
  scl3(segment, axis, size2[1]);

  Real end[3];
  add3(end, pos2, segment);
  int n1 = collide_plane_sphere(con, margin, pos1, mat1, size1, end, mat2, size2);
  sub3(end, pos2, segment);
  int n2 = collide_plane_sphere(con + n1, margin, pos1, mat1, size1, end, mat2, size2);

  if (n1) {
    copy3(con[0].tangent, axis);
  }
  if (n2) {
    copy3(con[n1].tangent, axis);
  }
  return n1 + n2;
}

// plane : box: the (up to 4) lowest corners within the margin, in corner order
template <class Real>
SP_HD inline int collide_plane_box(ContactPoint<Real>* con, Real margin,
                                   const Real* pos1, const Real* mat1, const Real* /*size1*/,
                                   const Real* pos2, const Real* mat2, const Real* size2) {
  Real norm[3] = {mat1[2], mat1[5], mat1[8]};
  Real dif[3];
  sub3(dif, pos2, pos1);
  Real dist = dot3(dif, norm);

  int cnt = 0;
  for (int i = 0; i < 8; i++) {
    // corner in local, then world coordinates relative to the box centre
    Real vec[3];
    vec[0] = (i & 1) ? size2[0] : -size2[0];
    vec[1] = (i & 2) ? size2[1] : -size2[1];
    vec[2] = (i & 4) ? size2[2] : -size2[2];
    Real corner[3];
    mul_mat_vec3(corner, mat2, vec);

    // skip corners beyond the margin and corners on the upper half
    Real ldist = dot3(norm, corner);
    if (dist + ldist > margin || ldist > 0) {
      continue;
    }

    con[cnt].dist = dist + ldist;
    copy3(con[cnt].normal, norm);
    add_to3(corner, pos2);
    scl3(vec, norm, -con[cnt].dist / 2);
    add3(con[cnt].pos, corner, vec);
    zero3(con[cnt].tangent);
    if (++cnt >= 4) {
      return 4;
    }
  }
  return cnt;
}

// sphere : sphere (also used with points on capsule segments)
template <class Real>
SP_HD inline int collide_sphere_sphere(ContactPoint<Real>* con, Real margin,
                                       const Real* pos1, const Real* mat1, const Real* size1,
                                       const Real* pos2, const Real* mat2, const Real* size2) {
  Real dif[3];
  sub3(dif, pos1, pos2);
  Real cdist_sqr = dot3(dif, dif);
  Real min_dist = margin + size1[0] + size2[0];
  if (cdist_sqr > min_dist * min_dist) {
    return 0;
  }

  con[0].dist = col_sqrt(cdist_sqr) - size1[0] - size2[0];
  sub3(con[0].normal, pos2, pos1);
  Real len = normalize3(con[0].normal);

  // coincident centres: normal from the cross product of the z axes (or x if parallel)
  if (len < ColConst<Real>::minval) {
    Real axis1[3] = {mat1[2], mat1[5], mat1[8]};
    Real axis2[3] = {mat2[2], mat2[5], mat2[8]};
    cross3(con[0].normal, axis1, axis2);
    normalize3(con[0].normal);
  }

  scl3(con[0].pos, con[0].normal, size1[0] + con[0].dist / 2);
  add_to3(con[0].pos, pos1);
  zero3(con[0].tangent);
  return 1;
}

// sphere : capsule: sphere against the nearest point of the capsule segment
template <class Real>
SP_HD inline int collide_sphere_capsule(ContactPoint<Real>* con, Real margin,
                                        const Real* pos1, const Real* mat1, const Real* size1,
                                        const Real* pos2, const Real* mat2, const Real* size2) {
  Real len = size2[1];
  Real axis[3] = {mat2[2], mat2[5], mat2[8]};
  Real vec[3];
  sub3(vec, pos1, pos2);
  Real x = col_clip(dot3(axis, vec), -len, len);
  scl3(vec, axis, x);
  add_to3(vec, pos2);
  return collide_sphere_sphere(con, margin, pos1, mat1, size1, vec, mat2, size2);
}

// capsule : capsule: nearest points of the two segments; parallel axes give up to 2 contacts
template <class Real>
SP_HD inline int collide_capsule_capsule(ContactPoint<Real>* con, Real margin,
                                         const Real* pos1, const Real* mat1, const Real* size1,
                                         const Real* pos2, const Real* mat2, const Real* size2) {
  Real axis1[3] = {mat1[2] * size1[1], mat1[5] * size1[1], mat1[8] * size1[1]};
  Real axis2[3] = {mat2[2] * size2[1], mat2[5] * size2[1], mat2[8] * size2[1]};
  Real dif[3];
  sub3(dif, pos1, pos2);

  // normal equations of the segment-segment distance
  Real ma = dot3(axis1, axis1);
  Real mb = -dot3(axis1, axis2);
  Real mc = dot3(axis2, axis2);
  Real u = -dot3(axis1, dif);
  Real v = dot3(axis2, dif);
  Real det = ma * mc - mb * mb;

  Real vec1[3], vec2[3];

  // general configuration: clip the unconstrained minimizer to the segments; axes closer to
  // parallel than sin^2 = 1e-8 (MuJoCo 4's threshold, measured) go to the parallel branch
  if (det >= ColConst<Real>::capsule_parallel * ma * mc) {
    Real x1 = (mc * u - mb * v) / det;
    Real x2 = (ma * v - mb * u) / det;
    if (x1 > 1) {
      x1 = 1;
      x2 = (v - mb) / mc;
    } else if (x1 < -1) {
      x1 = -1;
      x2 = (v + mb) / mc;
    }
    if (x2 > 1) {
      x2 = 1;
      x1 = col_clip((u - mb) / ma, Real(-1), Real(1));
    } else if (x2 < -1) {
      x2 = -1;
      x1 = col_clip((u + mb) / ma, Real(-1), Real(1));
    }
    scl3(vec1, axis1, x1);
    add_to3(vec1, pos1);
    scl3(vec2, axis2, x2);
    add_to3(vec2, pos2);
    return collide_sphere_sphere(con, margin, vec1, mat1, size1, vec2, mat2, size2);
  }

  // parallel axes: one contact at each end of the overlap of the two segments along axis 1
  // (lower end first); each end is a segment end of one capsule and its projection onto the
  // other. Segments that do not overlap give the same nearest pair twice, as MuJoCo does.
  Real proj_plus = (u - mb) / ma;   // capsule 2's +end along axis 1 (capsule 1 half-lengths)
  Real proj_minus = (u + mb) / ma;  // capsule 2's -end
  int n = 0;
  for (int end = 0; end < 2; end++) {
    Real x1, x2;
    bool low = end == 0;
    Real proj2 = low ? col_min(proj_plus, proj_minus) : col_max(proj_plus, proj_minus);
    bool own_end = low ? (Real(-1) >= proj2) : (Real(1) <= proj2);
    if (own_end) {
      // an end of capsule 1 bounds the overlap
      x1 = low ? Real(-1) : Real(1);
      x2 = col_clip(low ? (v + mb) / mc : (v - mb) / mc, Real(-1), Real(1));
    } else {
      // an end of capsule 2 bounds the overlap
      x2 = proj2 == proj_plus ? Real(1) : Real(-1);
      x1 = col_clip(proj2, Real(-1), Real(1));
    }
    scl3(vec1, axis1, x1);
    add_to3(vec1, pos1);
    scl3(vec2, axis2, x2);
    add_to3(vec2, pos2);
    n += collide_sphere_sphere(con + n, margin, vec1, mat1, size1, vec2, mat2, size2);
  }
  return n;
}

}  // namespace stampede::kern::constraint
