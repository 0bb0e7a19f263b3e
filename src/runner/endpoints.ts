/**
 * Endpoints per vantage point belong to the tenant session now (../tenant/endpoints.ts); the
 * runner's modules keep importing them from here.
 */
export { endpointsFor, hostPort, type VantageEndpoints } from '../tenant/endpoints';
